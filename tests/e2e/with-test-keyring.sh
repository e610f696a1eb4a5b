#!/usr/bin/env bash
# Runs a command with a private Secret Service: its own D-Bus session bus and
# a GNOME Keyring unlocked with a throwaway password, storing its files in a
# temporary directory. The e2e app stores account secrets there, exactly as
# on a desktop, and the developer's own login keyring is never touched.
set -euo pipefail
if [ -z "${CLOUDOPS_IN_TEST_KEYRING:-}" ]; then
  exec env CLOUDOPS_IN_TEST_KEYRING=1 dbus-run-session -- "$0" "$@"
fi
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
# --unlock reads the password on stdin and creates the login keyring;
# --components=secrets: no SSH or GPG agent.
eval "$(printf 'cloudops-e2e' | XDG_DATA_HOME="$keyring_home" \
  gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
