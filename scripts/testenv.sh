# shellcheck shell=bash
# Test environment for the acceptance tests. Source it from bash:
#
#     . scripts/testenv.sh || exit 1
#
# It makes sure that a Docker Engine answers, the Debian packages the tests use
# are installed, a local base image and two local registries exist, and a Terraform
# CLI is available, then exports:
#
#   IMAGEBUILD_TEST_BASE_IMAGE             base image in the engine (never pulled)
#   IMAGEBUILD_TEST_REGISTRY               host:port of a plain-HTTP registry on 127.0.0.1
#   IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE    the base image, pushed to that registry
#   IMAGEBUILD_TEST_TLS_REGISTRY           host:port of a second registry on 127.0.0.1, with TLS and
#                                          htpasswd auth; the base image is pushed to it too, as
#                                          $IMAGEBUILD_TEST_TLS_REGISTRY/imagebuild-test/busybox:latest
#   IMAGEBUILD_TEST_TLS_REGISTRY_USER      its user and password; no credentials for it are left
#   IMAGEBUILD_TEST_TLS_REGISTRY_PASSWORD  in the Docker config
#   IMAGEBUILD_TEST_TLS_REGISTRY_CA        the CA that signed its certificate (also installed as
#                                          /etc/docker/certs.d/HOST:PORT/ca.crt)
#   IMAGEBUILD_TEST_AUTH_REGISTRY          host:port of a third registry: plain HTTP with the same
#                                          htpasswd (BuildKit in dockerd 20.10 can take FROM images
#                                          with credentials from it, not from the TLS one); the
#                                          base image is pushed to it as HOST:PORT/imagebuild-test/busybox:latest
#   IMAGEBUILD_TEST_SSH_HOST               ssh://USER@127.0.0.1:PORT, an sshd of our own whose user
#   IMAGEBUILD_TEST_SSH_KEY                can run `docker`, and the private key it accepts (host key
#                                          not in known_hosts: pass -o StrictHostKeyChecking=no)
#   IMAGEBUILD_TEST_BUILDKIT_*             BuildKit daemons, see scripts/buildkitd.sh
#   TF_ACC_TERRAFORM_PATH, PATH            the Terraform CLI (its dir first on PATH)
#   DOCKER_HOST                            the cell's engine, when IMAGEBUILD_TEST_ENGINE names one
#   TF_ACC_PROVIDER_HOST,                  the provider's registry address in OpenTofu
#   TF_ACC_PROVIDER_NAMESPACE              (IMAGEBUILD_TEST_CLIENT=tofu only)
#
# Every step is idempotent and cheap when already done. Settings:
#   IMAGEBUILD_TEST_STATE              state dir (logs, registry data, TLS keys, password);
#                                      default /tmp/imagebuild-testenv
#   IMAGEBUILD_TEST_REGISTRY_PORT      registry port; default 5055
#   IMAGEBUILD_TEST_TLS_REGISTRY_PORT  TLS registry port; default 5056
#   IMAGEBUILD_TEST_AUTH_REGISTRY_PORT auth registry port; default 5057
#   IMAGEBUILD_TEST_SSH_PORT           sshd port; default 2222
#   IMAGEBUILD_TEST_ENGINE             the test-matrix cell's engine (scripts/engine.sh): default
#                                      (DOCKER_HOST or the local socket), docker29-containerd,
#                                      docker29-overlay2; a cell's defaults for the state dir
#                                      and ports are its own: /tmp/imagebuild-testenv-CELL,
#                                      ports +100 (docker29-containerd) or +200 (docker29-overlay2)
#   IMAGEBUILD_TEST_CLIENT             the CLI the tests drive: default (terraform on PATH, else
#                                      Terraform 1.5.7 built once), terraform-1.5.7, tofu
#                                      (OpenTofu 1.12.6), each built once by scripts/tool-path.sh
#
# The work runs in a child bash with `set -euo pipefail`, which prints the
# exports for the sourcing shell to eval. A function body would not do: errexit
# is silently off inside anything called from `if`, `&&` or `||`, which is how
# callers check the result; and it must not change the caller's shell options.

_testenv_setup() {
  set -euo pipefail
  local engine="${IMAGEBUILD_TEST_ENGINE:-default}"
  # A matrix cell's engine gets registries, sshd and state of its own (ports
  # +100, +200): each engine's base image is a different manifest (import
  # time, store), and a cell re-pushing the shared registries' base tag would
  # change the FROM of builds running meanwhile on the machine's engine.
  local off=0 suffix=
  case "$engine" in
    default) ;;
    docker29-containerd) off=100 suffix=-$engine ;;
    docker29-overlay2) off=200 suffix=-$engine ;;
    *) echo "testenv: ERROR: unknown IMAGEBUILD_TEST_ENGINE '$engine' (default, docker29-containerd, docker29-overlay2)" >&2; exit 1 ;;
  esac
  local state="${IMAGEBUILD_TEST_STATE:-/tmp/imagebuild-testenv$suffix}"
  local port="${IMAGEBUILD_TEST_REGISTRY_PORT:-$((5055 + off))}"
  local tport="${IMAGEBUILD_TEST_TLS_REGISTRY_PORT:-$((5056 + off))}"
  local aport="${IMAGEBUILD_TEST_AUTH_REGISTRY_PORT:-$((5057 + off))}"
  local sport="${IMAGEBUILD_TEST_SSH_PORT:-$((2222 + off))}"
  local base=imagebuild-test/busybox:latest
  local client="${IMAGEBUILD_TEST_CLIENT:-default}"
  local here i st sudo=
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$state"
  say() { echo "testenv: $*" >&2; }
  die() { echo "testenv: ERROR: $*" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || sudo=sudo
  case "$client" in
    default | terraform-1.5.7 | tofu) ;;
    *) die "unknown IMAGEBUILD_TEST_CLIENT '$client' (default, terraform-1.5.7, tofu)" ;;
  esac

  # A matrix cell's engine: started (or found running) by engine.sh. Its
  # DOCKER_HOST also keeps the "start dockerd" step below from firing.
  if [ "$engine" != default ]; then
    DOCKER_HOST=$("$here/engine.sh" "$engine") || die "could not start the engine of cell $engine"
    export DOCKER_HOST
  fi

  # Debian packages. Try without `apt-get update` first: it is slow and other
  # configured repositories may be unreachable (so its failure is tolerated).
  local pkgs=(busybox-static docker-registry apache2-utils openssh-client openssh-server openssl curl) missing=()
  for i in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$i" 2>/dev/null || true)
    [[ $st == *" ok installed" ]] || missing+=("$i")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "packages: installing ${missing[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q)
    [ -z "$sudo" ] || apt=(sudo "${apt[@]}")
    "${apt[@]}" install -y "${missing[@]}" >"$state/apt.log" 2>&1 ||
      { "${apt[@]}" update >>"$state/apt.log" 2>&1 || true
        "${apt[@]}" install -y "${missing[@]}" >>"$state/apt.log" 2>&1; } ||
      { tail -n 20 "$state/apt.log" >&2; die "could not install ${missing[*]} (log: $state/apt.log)"; }
  else
    say "packages: ${pkgs[*]} installed"
  fi

  # Docker Engine: use a running one, else start the installed dockerd.
  command -v docker >/dev/null || die "the docker CLI is not installed (Debian: apt-get install docker.io)"
  if ! docker info >/dev/null 2>&1; then
    [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'"
    command -v dockerd >/dev/null ||
      die "no Docker Engine answers 'docker info' and dockerd is not installed (Debian: apt-get install docker.io)"
    say "docker: starting dockerd (log: $state/dockerd.log)"
    # setsid+nohup: the daemon must outlive this script and make's shell.
    $sudo setsid nohup dockerd >>"$state/dockerd.log" 2>&1 </dev/null &
    for i in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 ||
      { tail -n 20 "$state/dockerd.log" >&2; die "dockerd did not answer within 30 s (log: $state/dockerd.log)"; }
  fi
  say "docker: engine $(docker version -f '{{.Server.Version}} (API {{.Server.APIVersion}})') at ${DOCKER_HOST:-the local socket}"

  # Base image, made from busybox-static because nothing can be pulled.
  if docker image inspect "$base" >/dev/null 2>&1; then
    say "base image: $base present"
  else
    local rootfs
    rootfs=$(mktemp -d "$state/rootfs.XXXXXX")
    mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/root" "$rootfs/tmp"
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for i in $("$rootfs/bin/busybox" --list); do
      [ "$i" = busybox ] || ln -s busybox "$rootfs/bin/$i"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    echo 'root:x:0:' >"$rootfs/etc/group"
    tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
      docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$base" >/dev/null
    rm -rf "$rootfs"
    say "base image: $base imported from /bin/busybox"
  fi

  # Registry: Debian's docker-registry on loopback, which Docker treats as
  # insecure (plain HTTP) by default, so the daemon needs no configuration.
  local reg="127.0.0.1:$port"
  if curl -fsS -o /dev/null "http://$reg/v2/" 2>/dev/null; then
    say "registry: $reg answering"
  else
    mkdir -p "$state/registry-data"
    cat >"$state/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/registry-data
  delete:
    enabled: true
http:
  addr: $reg
  secret: imagebuild-testenv  # silences a warning; one instance only
EOF
    setsid nohup docker-registry serve "$state/registry.yml" >>"$state/registry.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$state/registry.pid"
    for i in $(seq 50); do  # up to 10 s; stop early if it died (e.g. port taken)
      { curl -fsS -o /dev/null "http://$reg/v2/" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; } && break
      sleep 0.2
    done
    curl -fsS -o /dev/null "http://$reg/v2/" ||
      { tail -n 20 "$state/registry.log" >&2; die "registry did not answer on $reg (log: $state/registry.log)"; }
    say "registry: started on $reg (pid $pid, log: $state/registry.log)"
  fi

  # Proves the engine can push to the registry; cheap when the blobs exist.
  local pushed="$reg/$base"
  docker tag "$base" "$pushed"
  docker push -q "$pushed" >"$state/push.log" 2>&1 ||
    { cat "$state/push.log" >&2; die "could not push $pushed: is $reg reachable from the engine, and an insecure registry?"; }
  say "registry: pushed $pushed"

  # TLS registry: a second docker-registry, with TLS (our own CA) and htpasswd
  # auth. Key material, password and htpasswd are made once, kept in $state/tls.
  local treg="127.0.0.1:$tport" tls="$state/tls" tuser=imagebuild tpw made='' tmsg=''
  mkdir -p "$tls"
  chmod 700 "$tls"
  if ! { [ -s "$tls/ca.key" ] && [ -s "$tls/server.key" ] &&
         openssl verify -CAfile "$tls/ca.crt" "$tls/server.crt" >/dev/null 2>&1 &&
         openssl x509 -checkend 86400 -noout -in "$tls/server.crt" >/dev/null 2>&1; }; then
    cat >"$tls/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = imagebuild-testenv
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
EOF
    local ossl=(openssl req -config "$tls/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    { "${ossl[@]}" -x509 -days 3650 -extensions ca -subj "/CN=imagebuild-testenv CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" &&
      "${ossl[@]}" -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" &&
      openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
        -days 825 -extfile "$tls/openssl.cnf" -extensions server -out "$tls/server.crt"; } \
      >"$state/tls-openssl.log" 2>&1 ||
      { cat "$state/tls-openssl.log" >&2; die "openssl could not make the TLS registry's CA and certificate"; }
    chmod 600 "$tls/ca.key" "$tls/server.key"
    rm -f "$tls/server.csr" "$tls/ca.srl"
    made="new CA and certificate"
  fi
  [ -s "$tls/password" ] || { openssl rand -hex 16 >"$tls/password"; chmod 600 "$tls/password"; }
  tpw=$(cat "$tls/password")
  # bcrypt; -i reads the password from stdin (same as -Bbn, without argv).
  printf '%s\n' "$tpw" | htpasswd -vi "$tls/htpasswd" "$tuser" >/dev/null 2>&1 ||
    printf '%s\n' "$tpw" | htpasswd -niB "$tuser" >"$tls/htpasswd" 2>/dev/null ||
    die "htpasswd could not write $tls/htpasswd"

  # Answering means: the CA verifies it, no credentials gives 401, ours 200.
  tls_codes() {
    local a b
    a=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$tls/ca.crt" "https://$treg/v2/" 2>/dev/null) || true
    b=$(printf 'user = "%s:%s"\n' "$tuser" "$tpw" | curl -sS -o /dev/null -w '%{http_code}' -K - \
      --cacert "$tls/ca.crt" "https://$treg/v2/" 2>/dev/null) || true
    echo "${a:-000} ${b:-000}"
  }
  if [ "$(tls_codes)" = "401 200" ]; then
    tmsg="$treg answering${made:+ ($made)}"
  else
    # A stale instance of ours (an older certificate: it is read at start only;
    # htpasswd is reread when it changes) is replaced; anything else on the
    # port is an error below.
    local pid=
    local tcfg="$state/tls-registry-$tport.yml"  # per port: names the instance
    pid=$(cat "$state/tls-registry-$tport.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "docker-registry serve $tcfg"; then
      kill "$pid"
      for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    mkdir -p "$state/tls-registry-data"
    cat >"$tcfg" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/tls-registry-data
  delete:
    enabled: true
http:
  addr: $treg
  secret: imagebuild-testenv-tls
  tls:
    certificate: $tls/server.crt
    key: $tls/server.key
auth:
  htpasswd:
    realm: imagebuild-testenv
    path: $tls/htpasswd
EOF
    setsid nohup docker-registry serve "$tcfg" >>"$state/tls-registry.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$state/tls-registry-$tport.pid"
    for i in $(seq 50); do  # up to 10 s; stop early if it died (e.g. port taken)
      { [ "$(tls_codes)" = "401 200" ] || ! kill -0 "$pid" 2>/dev/null; } && break
      sleep 0.2
    done
    [ "$(tls_codes)" = "401 200" ] ||
      { tail -n 20 "$state/tls-registry.log" >&2
        die "TLS registry on $treg did not answer 401/200 (without/with credentials) over TLS with $tls/ca.crt; got $(tls_codes) (log: $state/tls-registry.log)"; }
    tmsg="started on $treg (${made:+$made, }pid $pid, log: $state/tls-registry.log)"
  fi

  # The CA for Docker, in certs.d (read per request; no dockerd restart). Note:
  # 127.0.0.0/8 is an implicit insecure registry, so the engine's own logins,
  # pulls and pushes do not verify its certificate (and without credentials a
  # pull falls back to plain HTTP: "connection reset by peer"); dockerd 20.10's
  # BuildKit lists certs.d only at start and speaks plain HTTP to loopback
  # registries, so there a build cannot take FROM images from this registry.
  local certsd="/etc/docker/certs.d/$treg"
  if ! cmp -s "$tls/ca.crt" "$certsd/ca.crt"; then
    $sudo mkdir -p "$certsd"
    $sudo cp "$tls/ca.crt" "$certsd/ca.crt"
  fi

  # Tests start with no stored credentials for it.
  local dcfg="${DOCKER_CONFIG:-$HOME/.docker}/config.json"
  ! grep -qF "$treg\"" "$dcfg" 2>/dev/null ||
    die "$dcfg has an entry for $treg; the tests need none: run 'docker logout $treg'"

  # Proves the engine can log in to registry $1 and push the base image there
  # as $1/$base, with a throwaway Docker config; output goes to log $2.
  login_and_push() {
    local dc ok=
    dc=$(mktemp -d "$state/docker-config.XXXXXX")
    if printf '%s\n' "$tpw" | DOCKER_CONFIG=$dc docker login -u "$tuser" --password-stdin "$1" >"$2" 2>&1 &&
       docker tag "$base" "$1/$base" &&
       DOCKER_CONFIG=$dc docker push -q "$1/$base" >>"$2" 2>&1; then
      ok=1
    fi
    rm -rf "$dc"
    [ -n "$ok" ] || { cat "$2" >&2; die "could not log in to $1 and push $1/$base"; }
  }
  login_and_push "$treg" "$state/tls-push.log"
  say "tls registry: $tmsg, user $tuser, pushed $treg/$base"

  # Auth registry: plain HTTP (so BuildKit in dockerd 20.10 can pull from it)
  # with the TLS registry's htpasswd, for builds whose FROM needs credentials.
  local areg="127.0.0.1:$aport" acfg="$state/auth-registry-$aport.yml"
  auth_codes() {
    local a b
    a=$(curl -sS -o /dev/null -w '%{http_code}' "http://$areg/v2/" 2>/dev/null) || true
    b=$(printf 'user = "%s:%s"\n' "$tuser" "$tpw" | curl -sS -o /dev/null -w '%{http_code}' -K - \
      "http://$areg/v2/" 2>/dev/null) || true
    echo "${a:-000} ${b:-000}"
  }
  if [ "$(auth_codes)" = "401 200" ]; then
    say "auth registry: $areg answering"
  else
    mkdir -p "$state/auth-registry-data"
    cat >"$acfg" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/auth-registry-data
http:
  addr: $areg
  secret: imagebuild-testenv-auth
auth:
  htpasswd:
    realm: imagebuild-testenv-auth
    path: $tls/htpasswd
EOF
    setsid nohup docker-registry serve "$acfg" >>"$state/auth-registry.log" 2>&1 </dev/null &
    local apid=$!
    for i in $(seq 50); do  # up to 10 s; stop early if it died (e.g. port taken)
      { [ "$(auth_codes)" = "401 200" ] || ! kill -0 "$apid" 2>/dev/null; } && break
      sleep 0.2
    done
    [ "$(auth_codes)" = "401 200" ] ||
      { tail -n 20 "$state/auth-registry.log" >&2
        die "auth registry on $areg did not answer 401/200 (without/with credentials); got $(auth_codes) (log: $state/auth-registry.log)"; }
    say "auth registry: started on $areg (pid $apid, log: $state/auth-registry.log)"
  fi
  login_and_push "$areg" "$state/auth-push.log"
  say "auth registry: pushed $areg/$base"

  # sshd on loopback with its own host key and authorized key, for ssh:// engine
  # hosts (docker/cli's connection helper runs `ssh ... docker system dial-stdio`).
  local ssh="$state/ssh" user
  user=$(id -un)
  mkdir -p "$ssh"
  chmod 700 "$ssh"
  [ -s "$ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_ed25519" </dev/null
  [ -s "$ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$ssh/id_ed25519" </dev/null
  cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys"
  local sshopts=(-i "$ssh/id_ed25519" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -p "$sport")
  if ssh "${sshopts[@]}" "$user@127.0.0.1" docker version >/dev/null 2>&1; then
    say "sshd: 127.0.0.1:$sport answering"
  else
    cat >"$ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1:$sport
HostKey $ssh/host_ed25519
AuthorizedKeysFile $ssh/authorized_keys
PidFile $ssh/sshd.pid
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
EOF
    # A cell's sshd gives its sessions the cell's engine, for ssh:// hosts.
    [ "$engine" = default ] || echo "SetEnv DOCKER_HOST=$DOCKER_HOST" >>"$ssh/sshd_config"
    $sudo mkdir -p /run/sshd
    # sshd daemonizes itself (and needs an absolute path to re-exec).
    /usr/sbin/sshd -f "$ssh/sshd_config" -E "$state/sshd.log" ||
      { tail -n 20 "$state/sshd.log" >&2; die "sshd did not start on 127.0.0.1:$sport (log: $state/sshd.log)"; }
    for i in $(seq 25); do
      ssh "${sshopts[@]}" "$user@127.0.0.1" docker version >/dev/null 2>&1 && break
      sleep 0.2
    done
    ssh "${sshopts[@]}" "$user@127.0.0.1" docker version >/dev/null 2>&1 ||
      { tail -n 20 "$state/sshd.log" >&2; die "cannot run 'docker version' through sshd on 127.0.0.1:$sport (log: $state/sshd.log)"; }
    say "sshd: started on 127.0.0.1:$sport (log: $state/sshd.log)"
  fi

  # BuildKit daemons for the builder tests; they pull from the loopback registries.
  local buildkit
  # A cell's daemons trust its own registries, so they listen on its ports.
  buildkit=$(IMAGEBUILD_TEST_BUILDKIT_PORT="${IMAGEBUILD_TEST_BUILDKIT_PORT:-$((5071 + off))}" \
    "$here/buildkitd.sh" start "$state" "$reg" "$areg") || die "no BuildKit daemons (see scripts/buildkitd.sh)"

  # Terraform CLI (from PATH, or built once and cached), or the cell's client.
  local tf extra=()
  case "$client" in
    default) tf=$("$here/terraform-path.sh") || die "no Terraform CLI (see scripts/terraform-path.sh)" ;;
    terraform-1.5.7) tf=$("$here/tool-path.sh" terraform-1.5.7) || die "could not build Terraform 1.5.7" ;;
    tofu)
      tf=$("$here/tool-path.sh" tofu-1.12.6) || die "could not build OpenTofu 1.12.6"
      # terraform-plugin-testing registers the provider under
      # HOST/NAMESPACE/imagebuild; the tests' configs name it without a
      # source, which OpenTofu reads as registry.opentofu.org/hashicorp/imagebuild.
      extra=(TF_ACC_PROVIDER_HOST registry.opentofu.org TF_ACC_PROVIDER_NAMESPACE hashicorp) ;;
  esac
  say "terraform: $tf ($("$tf" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'))"
  [ "$engine" = default ] || extra+=(DOCKER_HOST "$DOCKER_HOST")
  # A TF_CLI_CONFIG_FILE naming no file makes every command warn, and
  # OpenTofu prints that warning on stdout, where terraform-exec then fails
  # to parse `tofu version`. Empty is the same as unset (~/.terraformrc, if any).
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
    say "terraform: ignoring TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE, which does not exist"
    extra+=(TF_CLI_CONFIG_FILE "")
  fi

  # Put its dir first on PATH unless it already is the terraform PATH finds
  # (no reordering of other tools then).
  local path="$PATH"
  [ "$(command -v terraform || true)" = "$tf" ] || path="${tf%/*}:$PATH"
  echo "$buildkit"
  printf 'export %s=%q\n' \
    IMAGEBUILD_TEST_STATE "$state" \
    IMAGEBUILD_TEST_BASE_IMAGE "$base" \
    IMAGEBUILD_TEST_REGISTRY "$reg" \
    IMAGEBUILD_TEST_REGISTRY_BASE_IMAGE "$pushed" \
    IMAGEBUILD_TEST_TLS_REGISTRY "$treg" \
    IMAGEBUILD_TEST_TLS_REGISTRY_USER "$tuser" \
    IMAGEBUILD_TEST_TLS_REGISTRY_PASSWORD "$tpw" \
    IMAGEBUILD_TEST_TLS_REGISTRY_CA "$tls/ca.crt" \
    IMAGEBUILD_TEST_AUTH_REGISTRY "$areg" \
    IMAGEBUILD_TEST_SSH_HOST "ssh://$user@127.0.0.1:$sport" \
    IMAGEBUILD_TEST_SSH_KEY "$ssh/id_ed25519" \
    TF_ACC_TERRAFORM_PATH "$tf" \
    PATH "$path" \
    "${extra[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Executed rather than sourced: set up and print the exports, for `eval "$(scripts/testenv.sh)"`.
  _testenv_setup
  exit
fi

imagebuild_testenv() {
  local out
  out=$(bash "${BASH_SOURCE[0]}") ||
    { echo "testenv: FAILED, the test environment is not ready (see above)" >&2; return 1; }
  eval "$out"
}
imagebuild_testenv
