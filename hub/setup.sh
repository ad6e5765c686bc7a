#!/usr/bin/env bash
# Builds what the class hub needs, as root (`make hub-setup`; `make hub` runs it first):
#   1. the class environment in $HUB_ENV (default /opt/course-hub/env), from the system's Python,
#      root-owned and read-only to students: course_lib, torch, JupyterLab, JupyterHub,
#      nbgitpuller, the idle culler, jupyter-resource-usage, and the course kernel;
#   2. configurable-http-proxy from npm into hub/node_modules (npm ci, pinned by package-lock.json);
#   3. the course repository students pull from, $HUB_STATE/course.git, published from this
#      checkout's HEAD (run `make hub-publish` after you change the notebooks).
# Re-running it is cheap: each step is skipped when it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
HUB_ENV=${HUB_ENV:-/opt/course-hub/env}
HUB_STATE=${HUB_STATE:-/srv/course-hub}
ONLY=${1:-all}   # all | publish

if [ "$(id -u)" -ne 0 ]; then
  echo "hub/setup.sh: run as root (the hub creates a Unix account per student)" >&2
  exit 1
fi

publish() {
  mkdir -p "$HUB_STATE"
  chmod 755 "$HUB_STATE"
  if [ ! -d "$HUB_STATE/course.git" ]; then
    git init --quiet --bare --initial-branch=main "$HUB_STATE/course.git"
  fi
  # Students pull everything but labs/ (the labs' solutions and hidden tests; they fetch the labs'
  # student versions from nbgrader's exchange): a commit of HEAD's tree without labs/, on top of
  # what was published before, so nbgitpuller can merge it into a student's copy.
  local tree parent commit
  tree=$(git -C "$ROOT" ls-tree HEAD | grep -v $'\tlabs$' | git -C "$ROOT" mktree)
  parent=""
  if git --git-dir="$HUB_STATE/course.git" rev-parse -q --verify refs/heads/main >/dev/null; then
    git -C "$ROOT" fetch --quiet "$HUB_STATE/course.git" +refs/heads/main:refs/course-hub/published
    parent="-p $(git -C "$ROOT" rev-parse refs/course-hub/published)"
    if [ "$(git -C "$ROOT" rev-parse refs/course-hub/published^{tree})" = "$tree" ]; then
      echo "hub/setup.sh: the course repository is up to date"
      return
    fi
  fi
  # shellcheck disable=SC2086
  commit=$(git -C "$ROOT" -c user.name=course-hub -c user.email=course-hub@localhost commit-tree \
    "$tree" $parent -m "course $(git -C "$ROOT" rev-parse --short HEAD), without labs/")
  git -C "$ROOT" push --quiet --force "$HUB_STATE/course.git" "$commit:refs/heads/main"
  chmod -R a+rX,go-w "$HUB_STATE/course.git"
  # Students' git refuses a repository another user owns unless it is marked safe; this file is
  # the system git config of student servers only (GIT_CONFIG_SYSTEM in jupyterhub_config.py).
  printf '[include]\n\tpath = /etc/gitconfig\n[safe]\n\tdirectory = %s\n' "$HUB_STATE/course.git" \
    > "$HUB_STATE/gitconfig"
  chmod 644 "$HUB_STATE/gitconfig"
  echo "hub/setup.sh: published $(git -C "$ROOT" rev-parse --short HEAD) to $HUB_STATE/course.git"
}

if [ "$ONLY" = publish ]; then
  publish
  exit 0
fi

# 1. The class environment. The course's own .venv may sit under /root (mode 700), where students
#    cannot run it, so this one is built from the system's Python under /opt.
PY=${HUB_PYTHON:-$(command -v /usr/bin/python3.11 || command -v /usr/bin/python3 || true)}
if [ -z "$PY" ]; then
  echo "hub/setup.sh: no system Python 3 found (apt-get install python3 python3-venv)" >&2
  exit 1
fi
d=$(dirname "$(readlink -f "$PY")")
while [ "$d" != / ]; do
  if [ "$(( 0$(stat -c %a "$d") & 1 ))" -eq 0 ]; then
    echo "hub/setup.sh: $PY lies under $d, which other users cannot enter; students could not" \
      "run it. Set HUB_PYTHON to a Python outside it (e.g. /usr/bin/python3.11)" >&2
    exit 1
  fi
  d=$(dirname "$d")
done
STAMP="$HUB_ENV/.course-hub-installed"
WANT=$(cat pyproject.toml hub/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -x "$HUB_ENV/bin/python" ]; then
  umask 022
  "$PY" -m venv "$HUB_ENV"
fi
# setuptools builds in build/lib and packages whatever lies there, also files since deleted from
# the source: start from an empty one (nothing else of the course lives in these two folders).
rm -rf build/lib build/bdist.*
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  (umask 022
   "$HUB_ENV/bin/python" -m pip install --quiet --upgrade pip
   "$HUB_ENV/bin/python" -m pip install --quiet ".[hub]")
  echo "$WANT" > "$STAMP"
else
  # the dependencies are current; refresh course_lib itself (code, checkpoints, notebooks)
  (umask 022; "$HUB_ENV/bin/python" -m pip install --quiet --no-deps --force-reinstall .)
fi
"$HUB_ENV/bin/python" -m course_lib kernel --prefix "$HUB_ENV" >/dev/null
chmod -R go-w "$HUB_ENV"
echo "hub/setup.sh: class environment ready in $HUB_ENV ($("$HUB_ENV/bin/jupyterhub" --version | tail -1))"

# The graded labs (nbgrader, README "Grading"):
# - the account the autograder runs students' code as (course_lib/grading/sandbox.py); the
#   instructor starts it through sudo (the rule is written when their server first starts);
# - nbgrader's settings for everyone (hub/nbgrader_config.py);
# - the instructor's tools (formgrader, assignment creator, course list) off for students: the
#   instructor's own Jupyter config turns them back on (hub/course_hub.py, prepare_instructor);
# - labs/ holds the labs' solutions and hidden tests: on the hub's machine only root reads it.
if ! command -v sudo >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null
fi
"$HUB_ENV/bin/python" -m course_lib.grading setup
install -m 644 hub/nbgrader_config.py "$HUB_ENV/etc/jupyter/nbgrader_config.py"
for plugin in formgrader create-assignment course-list; do
  "$HUB_ENV/bin/jupyter" labextension disable --level=sys_prefix "@jupyter/nbgrader:$plugin" >/dev/null 2>&1
done
for ext in formgrader course_list; do
  "$HUB_ENV/bin/jupyter" server extension disable --sys-prefix "nbgrader.server_extensions.$ext" >/dev/null 2>&1
done
chmod go-rwx labs

# 2. The proxy, into the project (not a global npm install).
if [ ! -x hub/node_modules/.bin/configurable-http-proxy ] \
   || [ hub/package-lock.json -nt hub/node_modules/.package-lock.json ]; then
  (cd hub && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "hub/setup.sh: configurable-http-proxy $(hub/node_modules/.bin/configurable-http-proxy --version)"

# 3. The course repository.
publish
