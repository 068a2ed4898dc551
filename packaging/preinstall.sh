#!/bin/sh
# The service runs as its own unprivileged user.
set -e
if ! getent group stagedeck >/dev/null; then
  groupadd --system stagedeck
fi
if ! getent passwd stagedeck >/dev/null; then
  useradd --system --gid stagedeck --home-dir /var/lib/stagedeck --no-create-home --shell /usr/sbin/nologin stagedeck
fi
