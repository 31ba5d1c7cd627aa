#!/usr/bin/env bash
# Run kubectl's own command tests (test/cmd of Kubernetes 1.20.2) against an
# API server, one test function per fresh bash process.
#
#   scripts/kubectl-cmd-tests.sh fetch
#       Idempotent. Gets Debian's kubectl 1.20 (package kubernetes-client) and
#       the matching Kubernetes source package, extracts the kubectl binary to
#       .tools/kubernetes-client/ and only the test harness parts of the source
#       to .tools/kubectl-cmd-tests/. Installs the few Debian packages the
#       suite calls (curl, jq, ...) when they are missing. Quiet on cache hits.
#
#   scripts/kubectl-cmd-tests.sh run --kubeconfig FILE [--results DIR]
#                                    [--timeout SECONDS] FUNCTION...
#       FUNCTION is a test/cmd function name without "run_" and "_tests"
#       (kubectl_get, configmap, secrets, ...) or a full run_* function name.
#       Each one runs in its own bash process, against the server and
#       credentials of FILE (a private copy of it is used, because the tests
#       switch namespaces with `kubectl config set-context`). Prints one line
#       per function, then "N passed, M failed"; exits 1 if any failed.
#       Logs: DIR/<function>/output.log (default DIR: .tools/kubectl-cmd-results).
#
#   scripts/kubectl-cmd-tests.sh list
#       Lists the test functions the fetched suite defines.
#
# Nothing from Kubernetes is kept in this repository: everything lands under
# .tools/ (which this script marks as ignored with .tools/.gitignore).
#
# Environment: ATOLL_TOOLS_DIR overrides .tools; KUBECTL_CMD_TIMEOUT is the
# default per-function time limit (seconds, default 300).

set -o errexit
set -o nounset
set -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SELF="${ROOT}/scripts/$(basename "${BASH_SOURCE[0]}")"
TOOLS="${ATOLL_TOOLS_DIR:-${ROOT}/.tools}"
CACHE="${TOOLS}/cache/kubectl-cmd-tests"
KUBECTL_DIR="${TOOLS}/kubernetes-client"
KUBECTL_BIN_DIR="${KUBECTL_DIR}/usr/bin"
KUBECTL="${KUBECTL_BIN_DIR}/kubectl"
SRC="${TOOLS}/kubectl-cmd-tests"
# The suite and the client must be the same Kubernetes release.
K8S_VERSION="1.20.2"
# Parts of the source tree the test functions read (harness, fixtures).
SRC_PARTS=(
  test/cmd
  hack/lib
  hack/testdata
  hack/make-rules/test-cmd.sh
  test/fixtures
  test/e2e/testing-manifests
  third_party/forked/shell2junit
)
# command -> Debian package, for what test/cmd and this script call.
REQUIRED_COMMANDS=(
  curl:curl jq:jq file:file tput:ncurses-bin diff:diffutils sed:sed awk:mawk
  timeout:coreutils flock:util-linux tar:tar gzip:gzip dpkg-deb:dpkg apt-get:apt
)

log() { echo "kubectl-cmd-tests: $*" >&2; }
die() { log "error: $*"; exit 1; }
# Runs a command, showing its output only if it fails.
quietly() {
  local out
  if ! out="$("$@" 2>&1)"; then
    printf '%s\n' "${out}" >&2
    return 1
  fi
}

# --------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------

ensure_tools_dir() {
  mkdir -p "${TOOLS}" "${CACHE}"
  # Keep downloaded tools out of git even where .gitignore lacks .tools/.
  [[ -f "${TOOLS}/.gitignore" ]] || printf '*\n' > "${TOOLS}/.gitignore"
}

apt_updated=0
apt_update_once() {
  if [[ ${apt_updated} == 0 ]]; then
    log "apt-get update"
    quietly apt-get -qq update || die "apt-get update failed"
    apt_updated=1
  fi
}

ensure_packages() {
  local missing=() pair
  for pair in "${REQUIRED_COMMANDS[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} == 0 ]] && return 0
  [[ $(id -u) == 0 ]] || die "missing commands; install Debian packages: ${missing[*]}"
  apt_update_once
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive quietly apt-get -qq install -y --no-install-recommends \
    "${missing[@]}" || die "apt-get install ${missing[*]} failed"
}

# The candidate version of kubernetes-client, e.g. 1.20.5+really1.20.2-1.1+deb12u1.
candidate_version() {
  apt-cache policy kubernetes-client 2>/dev/null | awk '/Candidate:/ {print $2}'
}

client_version() {
  local v
  v="$(candidate_version)"
  if [[ -z ${v} || ${v} == "(none)" ]]; then
    apt_update_once
    v="$(candidate_version)"
  fi
  [[ -n ${v} && ${v} != "(none)" ]] || die "Debian has no kubernetes-client package for this system"
  [[ ${v} == *"${K8S_VERSION}"* ]] ||
    die "kubernetes-client ${v} is not Kubernetes ${K8S_VERSION}, which test/cmd here is written for"
  echo "${v}"
}

fetch_kubectl() {
  local version=$1
  if [[ -x ${KUBECTL} && -f ${KUBECTL_DIR}/.version && $(<"${KUBECTL_DIR}/.version") == "${version}" ]]; then
    return 0
  fi
  # Extracted by someone else (scripts/setup.sh does the same): keep it if it is 1.20.2.
  if [[ -x ${KUBECTL} && ! -f ${KUBECTL_DIR}/.version ]] &&
    [[ "$("${KUBECTL}" version --client --short 2>/dev/null || true)" == *"v${K8S_VERSION}" ]]; then
    echo "${version}" > "${KUBECTL_DIR}/.version"
    return 0
  fi
  local deb
  deb="$(find "${CACHE}" -maxdepth 1 -name "kubernetes-client_*.deb" 2>/dev/null | head -n1 || true)"
  if [[ -n ${deb} ]] && [[ "$(dpkg-deb -f "${deb}" Version)" != "${version}" ]]; then
    rm -f "${deb}"; deb=""
  fi
  if [[ -z ${deb} ]]; then
    log "downloading kubernetes-client ${version} (Debian's kubectl ${K8S_VERSION})"
    (cd "${CACHE}" && quietly apt-get -qq -o APT::Sandbox::User=root download "kubernetes-client=${version}") ||
      die "apt-get download kubernetes-client=${version} failed"
    deb="$(find "${CACHE}" -maxdepth 1 -name "kubernetes-client_*.deb" | head -n1)"
  fi
  log "extracting ${deb##*/} to ${KUBECTL_DIR}"
  local tmp="${KUBECTL_DIR}.tmp.$$"
  rm -rf "${KUBECTL_DIR}".tmp.*
  dpkg-deb -x "${deb}" "${tmp}"
  local got
  got="$("${tmp}/usr/bin/kubectl" version --client --short 2>/dev/null || true)"
  [[ ${got} == *"v${K8S_VERSION}"* ]] || die "extracted kubectl is not v${K8S_VERSION}: ${got}"
  echo "${version}" > "${tmp}/.version"
  rm -rf "${KUBECTL_DIR}"
  mv "${tmp}" "${KUBECTL_DIR}"
}

# Writes a private one-line sources list with a deb-src entry for the archive
# and suite that serve the kubernetes-client candidate (as configured on this
# system, e.g. from /etc/apt/sources.list.d/debian.sources), never touching the
# system's own apt configuration.
write_private_sources() {
  local version=$1 list=$2 line uri suite_comp suite comp keyring=""
  line="$(apt-cache madison kubernetes-client 2>/dev/null |
    awk -F' [|] ' -v v="${version}" '$2 == v && $3 ~ /^(https?|file|cdrom):/ && !l {l = $3} END {print l}')"
  [[ -n ${line} ]] || die "cannot find which apt archive serves kubernetes-client ${version}"
  # line: "<uri> <suite>/<component> <arch> Packages"
  uri="${line%% *}"
  suite_comp="$(awk '{print $2}' <<<"${line}")"
  suite="${suite_comp%%/*}"
  comp="${suite_comp#*/}"
  # Use the archive's keyring when the system declares one for this URI.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f ${f} ]] || continue
    keyring="$(awk -v u="${uri}" '
      /^$/ {inblk=0; k=""; hit=0}
      /^URIs:/ {for (i=2; i<=NF; i++) if ($i == u || $i == u"/") hit=1}
      /^Signed-By:/ {k=$2}
      hit && k != "" {print k; exit}' "${f}")"
    [[ -n ${keyring} ]] && break
  done
  if [[ -z ${keyring} && -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  if [[ -n ${keyring} && -f ${keyring} ]]; then
    echo "deb-src [signed-by=${keyring}] ${uri} ${suite} ${comp}" > "${list}"
  else
    echo "deb-src ${uri} ${suite} ${comp}" > "${list}"
  fi
}

fetch_sources() {
  local version=$1
  local upstream="${version%-*}" # 1.20.5+really1.20.2
  if [[ -f ${SRC}/.version && $(<"${SRC}/.version") == "${version}" ]]; then
    return 0
  fi
  local orig="${CACHE}/kubernetes_${upstream}.orig.tar.gz"
  if [[ ! -s ${orig} ]]; then
    local apt_dir="${CACHE}/apt"
    mkdir -p "${apt_dir}/lists/partial" "${apt_dir}/cache/archives/partial" "${CACHE}/src"
    write_private_sources "${version}" "${apt_dir}/sources.list"
    log "using private apt source: $(<"${apt_dir}/sources.list")"
    local apt_opts=(
      -o "Dir::Etc::SourceList=${apt_dir}/sources.list"
      -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State::Lists=${apt_dir}/lists"
      -o "Dir::Cache=${apt_dir}/cache"
      -o "APT::Sandbox::User=root"
    )
    log "apt-get update (private deb-src list)"
    quietly apt-get -qq "${apt_opts[@]}" update || die "apt-get update of the private deb-src list failed"
    log "downloading source package kubernetes ${version}"
    (cd "${CACHE}/src" && quietly apt-get -qq "${apt_opts[@]}" source --download-only "kubernetes=${version}") ||
      die "apt-get source --download-only kubernetes=${version} failed"
    mv "${CACHE}/src/kubernetes_${upstream}.orig.tar.gz" "${orig}"
    rm -rf "${CACHE}/src"
  fi
  log "extracting test/cmd and its harness from ${orig##*/} to ${SRC}"
  local tmp="${SRC}.tmp.$$" top
  rm -rf "${SRC}".tmp.*
  mkdir -p "${tmp}"
  top="$({ tar -tzf "${orig}" || true; } | head -n1)"
  top="${top%%/*}"
  tar -xzf "${orig}" -C "${tmp}" --strip-components=1 "${SRC_PARTS[@]/#/${top}/}"
  local part
  for part in "${SRC_PARTS[@]}"; do
    [[ -e ${tmp}/${part} ]] || die "${part} missing from ${orig##*/}"
  done
  echo "${version}" > "${tmp}/.version"
  rm -rf "${SRC}"
  mv "${tmp}" "${SRC}"
}

cmd_fetch() {
  [[ $# == 0 ]] || die "fetch takes no arguments"
  ensure_tools_dir
  # Parallel callers (pytest-xdist workers) wait for one another.
  exec 9>"${TOOLS}/.kubectl-cmd-tests.fetch.lock"
  flock 9
  ensure_packages
  # Warm cache: both halves present and of the same release -> nothing to do
  # (and no apt-cache look-up, so it works offline too).
  if [[ -x ${KUBECTL} && -f ${KUBECTL_DIR}/.version && -f ${SRC}/.version &&
    $(<"${KUBECTL_DIR}/.version") == $(<"${SRC}/.version") ]]; then
    return 0
  fi
  local version
  version="$(client_version)"
  fetch_kubectl "${version}"
  fetch_sources "${version}"
}

# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------

# The test function a name stands for: run_<name>_tests, run_<name>_test, or itself.
resolve_function() {
  local name=$1 c
  for c in "run_${name}_tests" "run_${name}_test" "${name}"; do
    if grep -qE "^(function[[:space:]]+)?${c}[[:space:]]*(\(\))?[[:space:]]*\{?[[:space:]]*$" "${SRC}"/test/cmd/*.sh; then
      echo "${c}"; return 0
    fi
  done
  return 1
}

# Whether a test function's body writes fixed /tmp/tmp-* files.
uses_fixed_tmp_paths() {
  awk -v fn="$1" '
    $0 ~ "^(function[ \t]+)?" fn "[ \t]*\\(\\)" { inside = 1; next }
    inside && /^}/ { exit }
    inside && /\/tmp\/tmp-/ { found = 1; exit }
    END { exit !found }' "${SRC}"/test/cmd/*.sh
}

# The most telling line of a failed function's log.
first_failure() {
  local log=$1 code=$2 line
  if [[ ${code} == 124 || ${code} == 137 ]]; then
    line="timed out after ${3}s; last line: $(grep -vE '^[[:space:]]*$|^(Terminated|Killed)$' "${log}" | tail -n1)"
  else
    # 1. an assertion helper's FAIL!, what it expected and got, and where
    line="$(awk '
      { L[NR] = $0 }
      END {
        for (i = 1; i <= NR; i++) if (L[i] ~ /FAIL!/) break
        if (i > NR) exit
        out = L[i]; loc = ""
        for (j = i + 1; j <= NR && j <= i + 400; j++) {
          s = L[j]; gsub(/^[ \t]+|[ \t]+$/, "", s)
          if (s == "") continue
          if (s ~ /^[0-9]+ [^ ]+\.sh$/) {   # `caller` output: LINE FILE
            split(s, a, " "); if (a[2] ~ /test\/cmd\//) { loc = a[2] ":" a[1]; break }; continue
          }
          if (s ~ /^(Get |Describe |Expected|Got:|has( not)?:|message:)/) {
            if (length(s) > 160) s = substr(s, 1, 160) "..."
            out = out " | " s
          }
        }
        gsub(/test\/cmd\/\.\.\/\.\.\//, "", loc)
        if (loc != "") out = out " | at " loc
        print out
      }' "${log}")"
    # 2. errexit: the failing command and where, after what kubectl said
    if [[ -z ${line} ]]; then
      line="$(awk '
        /^\+\+\+ Running case:/ { last = "" }
        /^(error|Error)[: ]|^The connection to the server|^Unable to connect|^unable to recognize/ { last = $0 }
        /^F[0-9][0-9][0-9][0-9] [0-9:.]+ +[0-9]+ [A-Za-z0-9_]+\.go:[0-9]+\] / { last = $0; sub(/^[^]]*\] /, "", last) }
        /^The [A-Za-z]+ ".*" is invalid/ { last = $0; inv = NR; next }
        inv && NR == inv + 1 && /^\* / { last = last " " $0 }
        /^  Error in / && msg == "" {
          msg = $0; sub(/^  /, "", msg); err = last
          if (msg !~ /exited with status [0-9]+$/) { msg = msg " [...]"; cmdlines = 1 }
          next
        }
        cmdlines && /exited with status [0-9]+$/ { match($0, /exited with status [0-9]+$/); msg = msg " " substr($0, RSTART); cmdlines = 0; next }
        msg != "" && /^Call stack:/ { cmdlines = 0; stack = 1; next }
        stack && /^  [0-9]+: / { if (where == "" && $2 ~ /test\/cmd\//) where = $2; next }
        stack { stack = 0 }
        END {
          if (msg == "") exit
          gsub(/test\/cmd\/\.\.\/\.\.\//, "", msg); gsub(/test\/cmd\/\.\.\/\.\.\//, "", where)
          if (msg !~ /Error in test\/cmd\// && where != "") msg = msg " (called from " where ")"
          if (err != "") msg = msg " | " err
          print msg
        }' "${log}")"
    fi
    # 3. harness prelude failures, or an `exit 1` in the function: the line before it
    [[ -n ${line} ]] || line="$(grep -m1 -E '^\+\+\+ \[harness\] FAIL' "${log}" || true)"
    [[ -n ${line} ]] || line="$(awk '
      /^\+\+\+ exit code: [1-9]/ { print $0 " after: " prev; exit }
      /[^[:space:]]/ { prev = $0 }' "${log}")"
    [[ -n ${line} ]] || line="exit code ${code}; last line: $(grep -v '^[[:space:]]*$' "${log}" | tail -n1)"
  fi
  # one readable line, without terminal escapes
  line="$(printf '%s' "${line}" | sed -e 's/\x1b\[[0-9;]*[a-zA-Z]//g; s/\x1b(B//g' | tr -s '\t ' '  ')"
  ((${#line} > 400)) && line="${line:0:400}..."
  printf '%s' "${line}"
}

cmd_run() {
  local kubeconfig="" results="${TOOLS}/kubectl-cmd-results" limit="${KUBECTL_CMD_TIMEOUT:-300}"
  local names=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --kubeconfig) kubeconfig="${2:?--kubeconfig needs a file}"; shift 2 ;;
      --kubeconfig=*) kubeconfig="${1#*=}"; shift ;;
      --results) results="${2:?--results needs a directory}"; shift 2 ;;
      --results=*) results="${1#*=}"; shift ;;
      --timeout) limit="${2:?--timeout needs seconds}"; shift 2 ;;
      --timeout=*) limit="${1#*=}"; shift ;;
      -h|--help) sed -n '2,30p' "${SELF}"; return 0 ;;
      -*) die "unknown option $1" ;;
      *) names+=("$1"); shift ;;
    esac
  done
  [[ -n ${kubeconfig} ]] || die "run needs --kubeconfig FILE"
  [[ -f ${kubeconfig} ]] || die "no kubeconfig at ${kubeconfig}"
  [[ ${#names[@]} -gt 0 ]] || die "run needs at least one test function name"
  [[ -f ${SRC}/.version && -x ${KUBECTL} ]] || die "suite not fetched; run: $0 fetch"
  kubeconfig="$(cd "$(dirname "${kubeconfig}")" && pwd -P)/$(basename "${kubeconfig}")"
  mkdir -p "${results}"
  results="$(cd "${results}" && pwd -P)"

  local passed=0 failed=0 name fn dir code start end secs failure ok
  for name in "${names[@]}"; do
    dir="${results}/${name}"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    start="$(date +%s.%N)"
    if ! fn="$(resolve_function "${name}")"; then
      echo "+++ [harness] FAIL! no test function run_${name}_tests in test/cmd" > "${dir}/output.log"
      code=2
    else
      code=0
      # Some functions write fixed paths such as /tmp/tmp-editor.sh (pod,
      # recursive_resources): those take turns when runs overlap.
      local lock=()
      if uses_fixed_tmp_paths "${fn}"; then
        lock=(flock "${TOOLS}/.kubectl-cmd-tests.fixed-tmp.lock")
      fi
      # timeout signals the whole process group, so kubectl children die too.
      "${lock[@]}" timeout --kill-after=15 "${limit}" bash "${SELF}" _run_one "${kubeconfig}" "${dir}" "${fn}" \
        </dev/null >"${dir}/output.log" 2>&1 || code=$?
    fi
    end="$(date +%s.%N)"
    secs="$(awk -v a="${start}" -v b="${end}" 'BEGIN {printf "%.1f", b - a}')"
    ok=1
    [[ ${code} == 0 ]] || ok=0
    grep -q 'FAIL!' "${dir}/output.log" && ok=0
    grep -qE '^\+\+\+ exit code: [1-9]' "${dir}/output.log" && ok=0
    if [[ ${ok} == 1 ]]; then
      passed=$((passed + 1))
      echo "PASS ${name} ${secs}s"
    else
      failed=$((failed + 1))
      failure="$(first_failure "${dir}/output.log" "${code}" "${limit}")"
      echo "FAIL ${name} ${secs}s (first failure: ${failure})"
    fi
  done
  echo "${passed} passed, ${failed} failed"
  [[ ${failed} == 0 ]]
}

# One test function in this (fresh) process. Mirrors what
# hack/make-rules/test-cmd.sh's setup() and test/cmd/legacy-script.sh's
# runTests() do before `record_command run_<name>_tests`, minus starting etcd,
# kube-apiserver and kube-controller-manager: the server is the one in the
# kubeconfig.
cmd_run_one() {
  local kubeconfig=$1 dir=$2 fn=$3
  mkdir -p "${dir}/home" "${dir}/tmp" "${dir}/junit"
  cp "${kubeconfig}" "${dir}/kubeconfig"
  export KUBECONFIG="${dir}/kubeconfig"
  export HOME="${dir}/home"          # fresh discovery cache, no ~/.kube/config
  export TMPDIR="${dir}/tmp"
  export TERM=dumb                   # tput prints no colour codes into the log
  export LANG=C LC_ALL=C
  export ALLOW_SKEW=1                # no --match-server-version
  export KUBE_VERBOSE=4              # errexit prints "Error in file:line. 'cmd' exited with status N"
  export KUBE_JUNIT_REPORT_DIR="${dir}/junit"
  export KUBECTL_CMD_TESTS_FUNCTION="${fn}"
  export PATH="${KUBECTL_BIN_DIR}:${PATH}"
  unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT KUBECTL_EXTERNAL_DIFF

  cd "${SRC}"   # the tests name their fixtures relative to the source root
  set +o errexit +o nounset +o pipefail
  # legacy-script.sh runs a canary that must fail (it prints "+++ exit code: 1"),
  # so what sourcing prints goes to source.log, not into the scored output.log.
  echo "+++ [harness] sourcing hack/lib/init.sh, hack/lib/test.sh, test/cmd/legacy-script.sh (output: source.log)"
  trap 'echo "+++ [harness] FAIL! sourcing the test harness failed (see source.log):"; tail -n 20 "${dir}/source.log"' EXIT
  {
    # shellcheck disable=SC1091
    source hack/lib/init.sh
    # shellcheck disable=SC1091
    source hack/lib/test.sh
    # shellcheck disable=SC1091
    source test/cmd/legacy-script.sh
  } >"${dir}/source.log" 2>&1
  trap - EXIT
  set +o errexit   # prelude: handled below; record_command sets its own
  # the canary's junit dir (mktemp -d /tmp/record_command_canary.XXXXX)
  [[ ${juDIR:-} == /tmp/record_command_canary.* ]] && rm -rf "${juDIR}"
  PATH="${dir}/bin:${KUBECTL_BIN_DIR}:${PATH}"   # legacy-script.sh put _output/... first
  [[ "$(command -v kubectl)" == "${KUBECTL}" ]] || { echo "+++ [harness] FAIL! kubectl is not ${KUBECTL}"; exit 1; }
  install_convert_plugin_if_missing

  kube::util::ensure-temp-dir
  kube::util::ensure-gnu-sed
  kube::util::trap_add stop-proxy EXIT

  export SUPPORTED_RESOURCES=("*")
  CONTEXT="$(kubectl config current-context)"
  local server token
  server="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  token="$(kubectl config view --minify --raw -o jsonpath='{.users[0].user.token}')"
  if [[ -z ${CONTEXT} || -z ${server} ]]; then
    echo "+++ [harness] FAIL! no current context or server in ${kubeconfig}"
    exit 1
  fi
  # shellcheck disable=SC2034 # read by some test/cmd functions (swagger, authorization)
  SECURE_API_PORT="$(sed -E 's#^[a-z]+://[^:/]+:?([0-9]*).*#\1#' <<<"${server}")"
  kube::log::status "harness: ${fn} against ${server} (context ${CONTEXT}), kubectl $(kubectl version --client --short)"

  # runTests(): these stay in the shape the test files expect.
  kube_flags=('-s' "${server}")
  kube_flags_without_token=("${kube_flags[@]}")
  kube_flags_with_token=("${kube_flags_without_token[@]}")
  [[ -n ${token} ]] && kube_flags_with_token+=("--token=${token}")
  if [[ -z "${ALLOW_SKEW:-}" ]]; then
    kube_flags+=('--match-server-version')
    kube_flags_with_token+=('--match-server-version')
  fi

  create_and_use_new_namespace() {
    local ns_name
    ns_name="namespace-$(date +%s)-${RANDOM}"
    kube::log::status "Creating namespace ${ns_name}"
    kubectl create namespace "${ns_name}"
    kubectl config set-context "${CONTEXT}" --namespace="${ns_name}"
  }

  export id_field=".metadata.name"
  export labels_field=".metadata.labels"
  export annotations_field=".metadata.annotations"
  export service_selector_field=".spec.selector"
  export rc_replicas_field=".spec.replicas"
  export rc_status_replicas_field=".status.replicas"
  export rc_container_image_field=".spec.template.spec.containers"
  export rs_replicas_field=".spec.replicas"
  export port_field="(index .spec.ports 0).port"
  export port_name="(index .spec.ports 0).name"
  export second_port_field="(index .spec.ports 1).port"
  export second_port_name="(index .spec.ports 1).name"
  export image_field="(index .spec.containers 0).image"
  export pod_container_name_field="(index .spec.containers 0).name"
  export container_name_field="(index .spec.template.spec.containers 0).name"
  export hpa_min_field=".spec.minReplicas"
  export hpa_max_field=".spec.maxReplicas"
  export hpa_cpu_field=".spec.targetCPUUtilizationPercentage"
  export template_labels=".spec.template.metadata.labels.name"
  export statefulset_replicas_field=".spec.replicas"
  export statefulset_observed_generation=".status.observedGeneration"
  export job_parallelism_field=".spec.parallelism"
  export deployment_replicas=".spec.replicas"
  export secret_data=".data"
  export secret_type=".type"
  export change_cause_annotation='.*kubernetes.io/change-cause.*'
  export pdb_min_available=".spec.minAvailable"
  export pdb_max_unavailable=".spec.maxUnavailable"
  export generation_field=".metadata.generation"
  export container_len="(len .spec.template.spec.containers)"
  export image_field0="(index .spec.template.spec.containers 0).image"
  export image_field1="(index .spec.template.spec.containers 1).image"

  # Prelude. Upstream runs it under errexit; here only an unreachable server
  # is fatal, the rest is reported and left to the function's own assertions.
  kube::log::status "harness prelude: kubectl version"
  local version_out
  if ! version_out="$(kubectl version 2>&1)"; then
    printf '%s\n' "${version_out}"
    local hint=""
    if [[ ${server} == http://* && ${version_out} == *"must be logged in"* ]]; then
      hint=" (kubectl 1.20 sends kubeconfig credentials only over https: client-go clientcmd/client_config.go:190)"
    fi
    echo "+++ [harness] FAIL! kubectl version against ${server}: $(tail -n1 <<<"${version_out}")${hint}"
    exit 1
  fi
  printf '%s\n' "${version_out}"
  # test-cmd.sh create_node(): there is no kubelet, so a Node 127.0.0.1 stands in.
  if ! kubectl get nodes 127.0.0.1 "${kube_flags[@]}" >/dev/null 2>&1; then
    kubectl create "${kube_flags[@]}" -f - <<'__EOF__' || echo "+++ [harness] WARNING: could not create Node 127.0.0.1"
{"kind": "Node", "apiVersion": "v1", "metadata": {"name": "127.0.0.1"}, "status": {"capacity": {"memory": "1Gi"}}}
__EOF__
  fi
  if ! kubectl get "${kube_flags[@]}" namespaces default >/dev/null 2>&1; then
    kubectl create "${kube_flags[@]}" ns default || echo "+++ [harness] WARNING: no namespace default and could not create it"
  fi
  kubectl create "${kube_flags[@]}" -f hack/testdata/kubernetes-service.yaml >/dev/null 2>&1 || true
  kubectl get "${kube_flags[@]}" -f hack/testdata/kubernetes-service.yaml ||
    echo "+++ [harness] WARNING: no Service default/kubernetes"
  # Upstream the functions run one after another, each starting in the
  # namespace the previous one switched to; start each in a new namespace
  # (functions that want their own still create it).
  create_and_use_new_namespace || echo "+++ [harness] WARNING: could not create a namespace for ${fn}"

  # No internet here: generic-resources.sh:177/184 create and delete from a
  # raw.githubusercontent.com URL. Serve the same file from the extracted tree
  # on 127.0.0.1 and point kubectl there (still "create -f <URL>").
  local gh='https://raw.githubusercontent.com/kubernetes/kubernetes/master/'
  if declare -f "${fn}" | grep -qF "${gh}"; then
    serve_source_tree_locally
    kubectl() {
      local a=() x
      for x in "$@"; do
        if [[ ${x} == "${gh}"* ]]; then
          x="${LOCAL_SOURCE_URL}/${x#"${gh}"}"
          echo "+++ [harness] offline: kubectl reads ${x} in place of the GitHub URL" >&2
        fi
        a+=("${x}")
      done
      command kubectl "${a[@]}"
    }
  fi

  foundError=""
  record_command "${fn}"
  if [[ -n ${foundError} ]]; then
    echo "FAILED TESTS: ${foundError}"
    exit 1
  fi
  kube::log::status "harness: ${fn} passed"
}

# Debian's kubectl 1.20.2 build has no `convert` subcommand ("unknown command"),
# yet test/cmd calls it (generic-resources.sh:272,283, template-output.sh:66,
# create.sh:88), always client-side. A kubectl plugin ${dir}/bin/kubectl-convert
# stands in for it: `kubectl patch --local --type=merge` with the apiVersion set
# to --output-version, printing YAML unless -o/--template say otherwise. It
# announces itself on stderr.
install_convert_plugin_if_missing() {
  "${KUBECTL}" convert --help >/dev/null 2>&1 && return 0
  mkdir -p "${dir}/bin"
  cat >"${dir}/bin/kubectl-convert" <<__EOF__
#!/usr/bin/env bash
# Stand-in for \`kubectl convert\`, written by scripts/kubectl-cmd-tests.sh.
args=() version="" output_set=""
while ((\$#)); do
  case "\$1" in
    --output-version=*) version="\${1#*=}" ;;
    --output-version) version="\$2"; shift ;;
    --local|--local=true) ;;
    -o|--output|--template) output_set=1; args+=("\$1" "\$2"); shift ;;
    -o*|--output=*|--template=*) output_set=1; args+=("\$1") ;;
    *) args+=("\$1") ;;
  esac
  shift
done
patch='{}'
[[ -n \${version} ]] && patch="{\\"apiVersion\\":\\"\${version}\\"}"
[[ -n \${output_set} ]] || args+=(-o yaml)
echo "+++ [harness] kubectl convert is not in this kubectl build; running: kubectl patch --local --type=merge -p \${patch} \${args[*]}" >&2
exec "${KUBECTL}" patch --local --type=merge -p "\${patch}" "\${args[@]}"
__EOF__
  chmod +x "${dir}/bin/kubectl-convert"
}

# Starts an HTTP server for ${SRC} on 127.0.0.1 (stopped at exit); sets LOCAL_SOURCE_URL.
serve_source_tree_locally() {
  local py out="${dir}/http-server.log" i port=""
  py="$(command -v python3 || true)"
  [[ -n ${py} ]] || py="${ROOT}/.venv/bin/python"
  "${py}" -u -m http.server 0 --bind 127.0.0.1 --directory "${SRC}" >"${out}" 2>&1 &
  local pid=$!
  kube::util::trap_add "kill ${pid} 2>/dev/null || true" EXIT
  for ((i = 0; i < 100; i++)); do
    port="$(sed -n 's/^Serving HTTP on [^ ]* port \([0-9][0-9]*\).*/\1/p' "${out}")"
    [[ -n ${port} ]] && break
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z ${port} ]]; then
    echo "+++ [harness] WARNING: local file server did not start: $(cat "${out}")"
    port=9   # discard port: the URL step then fails visibly
  fi
  LOCAL_SOURCE_URL="http://127.0.0.1:${port}"
}

cmd_list() {
  [[ -f ${SRC}/.version ]] || die "suite not fetched; run: $0 fetch"
  grep -hoE '^(function[[:space:]]+)?run_[A-Za-z0-9_]+[[:space:]]*\(\)' "${SRC}"/test/cmd/*.sh |
    sed -E 's/^function[[:space:]]+//; s/[[:space:]]*\(\)$//; s/^run_//; s/_tests?$//' | sort -u
}

main() {
  local sub="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "${sub}" in
    fetch) cmd_fetch "$@" ;;
    run) cmd_run "$@" ;;
    list) cmd_list "$@" ;;
    _run_one) cmd_run_one "$@" ;;
    -h|--help|help) sed -n '2,30p' "${SELF}" ;;
    *) sed -n '2,30p' "${SELF}" >&2; exit 2 ;;
  esac
}

main "$@"
