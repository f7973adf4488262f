# Any command that leaves an image in the engine: here `docker build` with the
# classic builder, so it needs no buildx plugin. The args run without a shell,
# so the command names its tag itself and output_tag says which it is.
resource "imagebuild_cmd_image" "web" {
  ref        = "web"
  dir        = "${path.module}/web"
  args       = ["docker", "build", "-t", "web:dev", "."]
  env        = { DOCKER_BUILDKIT = "0" }
  output_tag = "dev"
}

# With a shell, the command can use the tag the provider chose: $EXPECTED_REF
# (Terraform needs $${ ... } only for braces; plain $NAME passes through).
resource "imagebuild_cmd_image" "web_sh" {
  ref  = "web-sh"
  dir  = "${path.module}/web"
  args = ["sh", "-c", "DOCKER_BUILDKIT=0 docker build -t \"$EXPECTED_REF\" ."]
}

# A ko / bazel / nix style step: the tool picks its own tag and pushes, and
# writes the ref it produced to a file.
resource "imagebuild_cmd_image" "worker" {
  ref                  = "registry.example.com/team/worker"
  args                 = ["sh", "-c", "KO_DOCKER_REPO=registry.example.com/team ko build --bare ./cmd/worker > ref.txt"]
  outputs_image_ref_to = "ref.txt"
  output_mode          = "remote"
  deps                 = ["${path.module}/cmd/worker", "${path.module}/go.sum"]
  ignore               = ["**/*_test.go", "testdata"] # in each deps directory: a change there rebuilds nothing
  # A pushed image is adopted by another workspace with the same inputs
  # (reuse_from_registry, default true); false runs the command in each one.
  reuse_from_registry = false
}

# A code generator of the same apply feeds the command's deps: triggers makes
# each new generation rebuild in that apply.
resource "terraform_data" "protos" {
  triggers_replace = filesha256("${path.module}/api.proto")
  provisioner "local-exec" {
    command = "protoc --go_out=${path.module}/gen ${path.module}/api.proto"
  }
}

resource "imagebuild_cmd_image" "server" {
  ref      = "server"
  args     = ["sh", "-c", "ko build --local --bare ./cmd/server | xargs -I{} docker tag {} \"$EXPECTED_REF\""]
  deps     = ["${path.module}/gen", "${path.module}/cmd/server"]
  triggers = { protos = terraform_data.protos.id }
}

# A token for the command that never reaches plan or state (Terraform 1.11+):
# secret_env is write-only, and its value is masked in logs and errors. A new
# token alone rebuilds nothing: change secret_env_version to rebuild.
variable "npm_token" {
  type      = string
  ephemeral = true
  sensitive = true
}

resource "imagebuild_cmd_image" "frontend" {
  ref                = "frontend"
  dir                = "${path.module}/frontend"
  deps               = ["package-lock.json", "src"] # taken from dir
  secret_env         = { NPM_TOKEN = var.npm_token }
  secret_env_version = "1"
  args               = ["sh", "-c", "docker build --secret id=npm,env=NPM_TOKEN -t \"$EXPECTED_REF\" ."]
}
