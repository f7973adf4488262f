terraform {
  required_providers {
    imagebuild = {
      source = "imagebuild/imagebuild"
    }
  }
}

# With no arguments the provider uses DOCKER_HOST, else the local socket.
provider "imagebuild" {
  # host = "ssh://builder@build-host.example.com"

  registry_auth {
    address  = "registry.example.com"
    username = "ci"
    password = var.registry_password
  }

  # Images built for this cluster go to its registry and are built for arm64.
  cluster {
    name = "prod"
    arch = "arm64"
    registry {
      host = "registry.example.com"
    }
  }
}

variable "registry_password" {
  type      = string
  sensitive = true
}
