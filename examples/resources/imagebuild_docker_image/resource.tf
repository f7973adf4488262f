# Build the API from ./api with BuildKit, with a build arg, a secret and the
# SSH agent, then hand the immutable ref to whatever runs it.
resource "imagebuild_docker_image" "api" {
  ref     = "registry.example.com/team/api"
  context = "${path.module}/api"

  args       = ["GO_VERSION=1.26", "GOPROXY"] # GOPROXY comes from Terraform's environment
  secrets    = ["id=npmrc,src=${pathexpand("~/.npmrc")}", "id=token,env=API_TOKEN"]
  target     = "release"
  platform   = "linux/amd64"
  extra_tags = ["registry.example.com/team/api:latest"]

  ssh_agent_configs = ["default"]

  timeouts {
    create = "30m"
  }
}

# A second image built on top of the first: its Dockerfile's
# `FROM registry.example.com/team/api` builds on the image just built (the
# map replaces it for the build), and it is rebuilt when the API image changes.
resource "imagebuild_docker_image" "api_debug" {
  ref                 = "registry.example.com/team/api-debug"
  context             = "${path.module}/api"
  image_maps          = [imagebuild_docker_image.api.status.ref]
  dockerfile_contents = <<-EOT
    FROM registry.example.com/team/api
    RUN apk add --no-cache strace
  EOT
}

output "api_image" {
  value = imagebuild_docker_image.api.status.ref
}

# Build, push to the cluster's registry, and deploy what was pushed. The
# deployment changes exactly when the image's content does.
provider "imagebuild" {
  cluster {
    name = "prod"
    registry {
      host = "registry.example.com"
    }
  }
}

resource "imagebuild_docker_image" "web" {
  ref     = "web"
  context = "${path.module}/web"
  cluster = "prod" # status.ref becomes registry.example.com/web:tf-<16 hex>, pushed
  # Also tagged registry.example.com/web:tf-in-<32 hex of input_digest>: another
  # workspace (staging, production, a fresh state) with the same inputs adopts
  # this image instead of building it. false builds in every workspace.
  reuse_from_registry = true
}

resource "kubernetes_deployment" "web" {
  metadata { name = "web" }
  spec {
    selector { match_labels = { app = "web" } }
    template {
      metadata { labels = { app = "web" } }
      spec {
        container {
          name  = "web"
          image = imagebuild_docker_image.web.status.ref
        }
      }
    }
  }
}

# A generator of the same apply writes into the context (code generation, an
# asset build). triggers ties the image to it: when the generator runs again,
# its id is unknown at plan, so the image plans a build, and that build, in the
# same apply, takes what the generator wrote. (depends_on alone is enough for
# the first apply; triggers makes every new generation rebuild.)
resource "terraform_data" "assets" {
  triggers_replace = filesha256("${path.module}/web/package-lock.json")
  provisioner "local-exec" {
    command = "npm --prefix ${path.module}/web run build" # writes web/dist/
  }
}

resource "imagebuild_docker_image" "web_assets" {
  ref      = "registry.example.com/team/web"
  context  = "${path.module}/web"
  triggers = { assets = terraform_data.assets.id }
}

# Security rebuilds: with pull = true a plan looks up each FROM's tag in its
# registry, so a scheduled plan and apply rebuilds exactly the images whose
# base was pushed anew (reason "base image <ref> moved"); no time_rotating
# trigger is needed.
resource "imagebuild_docker_image" "base" {
  ref     = "registry.example.com/team/base"
  context = "${path.module}/base"
  pull    = true
}

# The build flags of `docker buildx build`: a Dockerfile outside the context
# (with build/api.Dockerfile.dockerignore beside it, used instead of the
# context's .dockerignore), labels, /etc/hosts entries, a larger /dev/shm,
# ulimits, and named contexts for COPY --from=assets and FROM base.
# shm_size, ulimits and build_contexts need Docker 23.0 or later.
resource "imagebuild_docker_image" "api_full" {
  ref        = "registry.example.com/team/api"
  context    = "${path.module}/api"
  dockerfile = "${path.module}/build/api.Dockerfile"

  labels = {
    "org.opencontainers.image.source"   = "https://github.com/team/api"
    "org.opencontainers.image.revision" = var.git_sha
  }
  add_hosts = ["packages.internal:10.0.0.5"]
  shm_size  = "256m"
  ulimits   = ["nofile=65536:65536"]

  build_contexts = {
    assets = "${path.module}/frontend/dist"  # COPY --from=assets / /srv/static/
    base   = "docker-image://debian:12-slim" # FROM base
  }

  # An image that holds inline cache metadata (built with BUILDKIT_INLINE_CACHE=1).
  cache_from = ["type=registry,ref=registry.example.com/team/api:cache"]

  # Every step afresh whenever the image is rebuilt (inputs changed).
  no_cache = true
}

# Write-only secrets (Terraform 1.11+, OpenTofu 1.11+): the value comes from a
# secrets manager and never reaches plan, state, logs or the image. The build
# reads it with RUN --mount=type=secret,id=npm_token. Bump the version to
# rebuild with a new value.
ephemeral "aws_secretsmanager_secret_version" "npm" {
  secret_id = "ci/npm-token"
}

resource "imagebuild_docker_image" "web_deps" {
  ref     = "registry.example.com/team/web"
  context = "${path.module}/web"

  secret_values_wo         = { npm_token = ephemeral.aws_secretsmanager_secret_version.npm.secret_string }
  secret_values_wo_version = "2026-12" # change it when the token rotates
}

# Outputs beside the image: a Lambda zip built in a container (the stage
# "package" holds only /lambda.zip) is extracted to dist/ on the machine that
# runs Terraform, and its files are also kept as a tarball. Only an apply that
# builds writes them; a deleted dist/ plans nothing (change triggers or
# replace the resource to write it again). Exports on the Docker engine need
# Docker 26.0 or later.
resource "imagebuild_docker_image" "lambda" {
  ref     = "registry.example.com/team/lambda"
  context = "${path.module}/lambda"
  target  = "package"
  exports = [
    "type=local,dest=${path.module}/dist",
    "type=tar,dest=${path.module}/out/lambda-files.tar",
  ]
}

# An SBOM attestation, on a BuildKit builder (a provider builder block named
# "ci"): the pushed image becomes an OCI index holding the image manifest and
# an SPDX attestation manifest. Without attest_* a single-platform image is
# pushed as one manifest. The image is also saved as an OCI layout tarball.
resource "imagebuild_docker_image" "api_sbom" {
  ref     = "registry.example.com/team/api"
  context = "${path.module}/api"
  builder = "ci"

  attest_sbom    = true
  sbom_generator = "registry.example.com/tools/buildkit-syft-scanner:stable-1" # null: BuildKit's default
  exports        = ["type=oci,dest=${path.module}/out/api.oci.tar"]
}
