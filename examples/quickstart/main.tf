# A first build: `make demo` applies this with the provider built from source.
terraform {
  required_providers {
    imagebuild = {
      source = "imagebuild/imagebuild"
    }
  }
}

resource "imagebuild_docker_image" "hello" {
  ref     = "imagebuild-quickstart/hello"
  context = "${path.module}/app"
}

output "ref" {
  description = "Immutable reference of the image; pass it to whatever runs it."
  value       = imagebuild_docker_image.hello.status.ref
}
