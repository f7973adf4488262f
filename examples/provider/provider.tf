terraform {
  required_providers {
    imagebuild = {
      source = "imagebuild/imagebuild"
    }
  }
}

# With no arguments the provider uses DOCKER_HOST, else the Docker CLI's current
# context (DOCKER_CONTEXT, then `docker context use`; Docker Desktop, colima and
# rootless Docker set one), else the local socket.
provider "imagebuild" {
  # host     = "ssh://builder@build-host.example.com"
  # ssh_opts = ["-i", "~/.ssh/builder", "-o", "StrictHostKeyChecking=accept-new"]

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

  # Artifact Registry: a registry host with a path. `ref = "team/api"` is
  # pushed as us-docker.pkg.dev/acme/images/team_api:tf-<16 hex>.
  cluster {
    name = "gke"
    registry {
      host = "us-docker.pkg.dev/acme/images"
    }
  }

  # ECR with one pre-created repository: every image goes to .../apps, its
  # name in the tag (team/api -> ...amazonaws.com/apps:api-tf-<16 hex>).
  cluster {
    name = "eks"
    registry {
      host        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
      single_name = "apps"
    }
  }

  # A KIND cluster with a local registry: pushed to localhost:5001, pulled by
  # the nodes as kind-registry:5000 (use the resources' cluster_ref).
  cluster {
    name = "kind"
    registry {
      host              = "localhost:5001"
      host_from_cluster = "kind-registry:5000"
    }
  }
}

variable "registry_password" {
  type      = string
  sensitive = true
}
