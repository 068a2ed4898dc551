#!/bin/sh
set -e
if command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
echo "stagedeck: configure /etc/stagedeck/config.yaml and /etc/stagedeck/authorized_keys, then: systemctl enable --now stagedeck-serve"
