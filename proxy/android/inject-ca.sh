#!/bin/sh
# leakscope: put a CA certificate into Android's system store until the next reboot. Runs on the device as root
# (POSIX sh: Android's mksh and toybox, or dash in leakscope's tests). Nothing of the host is interpolated into
# it: leakscope pushes this file and the certificate, and the only argument is the certificate's path.
#
#   inject-ca.sh /data/local/tmp/leakscope/<subject_hash_old>.0
#
# Android 13 and older read /system/etc/security/cacerts, Android 14 and later /apex/com.android.conscrypt/cacerts.
# Either way a tmpfs goes over the store, holding the certificates that were there plus ours, in every mount
# namespace that matters: this shell's, zygote's and zygote64's (each app's namespace is copied from its zygote's
# when it forks, so apps to come see it) and every running app's (the zygotes' children), without relying on
# mount propagation between them. Prints one `leakscope-ca: ok ...` line at the end, or exits non-zero.
#
# Internal mode, run through nsenter inside a namespace: inject-ca.sh --mount-into STAGE DIR NAME
set -eu

SYSTEM_STORE=/system/etc/security/cacerts
APEX_STORE=/apex/com.android.conscrypt/cacerts
TMPFS_NAME=leakscope-ca

fail() {
  echo "leakscope-ca: $*" >&2
  exit 1
}

# The SELinux label the store's files had, so apps may still read them from the tmpfs; empty without SELinux.
store_label() {
  [ -e /sys/fs/selinux/enforce ] || return 0
  for f in "$1"/*; do
    [ -f "$f" ] || continue
    set -- $(ls -Z "$f")
    echo "$1"
    return 0
  done
}

# A tmpfs left by an earlier run goes first, so the store is the original plus this CA, never stacked on an old CA.
unmount_ours() {
  while grep -q "^$TMPFS_NAME $1 " /proc/self/mounts; do umount "$1"; done
}

# Replace DIR, in the current mount namespace, with a tmpfs holding STAGE's certificates; check it worked.
mount_into() {
  stage=$1 dir=$2 name=$3
  label=$(store_label "$dir")
  unmount_ours "$dir"
  mount -t tmpfs -o mode=755 "$TMPFS_NAME" "$dir"
  cp "$stage"/* "$dir"/
  chown root:root "$dir" "$dir"/*
  chmod 644 "$dir"/*
  if [ -n "$label" ]; then chcon "$label" "$dir" "$dir"/*; fi
  [ -s "$dir/$name" ] || fail "$name is not in $dir after mounting"
  count=0
  for f in "$dir"/*; do count=$((count + 1)); done
  echo "leakscope-ca: namespace $(readlink /proc/self/ns/mnt) $dir holds $count certificates"
}

if [ "${1:-}" = --mount-into ]; then
  mount_into "$2" "$3" "$4"
  exit 0
fi

[ $# -eq 1 ] || fail "usage: inject-ca.sh CERT_FILE"
cert=$1
name=${cert##*/}
case $name in
  [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].0) ;;
  *) fail "the certificate file must be named <subject_hash_old>.0, not $name" ;;
esac
[ -s "$cert" ] || fail "$cert is missing or empty"
[ "$(id -u)" = 0 ] || fail "must run as root"

if [ -d "$APEX_STORE" ]; then store=$APEX_STORE; else store=$SYSTEM_STORE; fi
[ -d "$store" ] || fail "no certificate store at $store"

# The store as the system shipped it, staged where every namespace can read it (/data is shared by all).
unmount_ours "$store"
stage=${cert%/*}/store
rm -rf "$stage"
mkdir -m 700 "$stage"
cp "$store"/* "$stage"/
cp "$cert" "$stage/$name"

done_ns=" "
namespaces=0
# Replace the store in the namespace of PID (once per namespace; a process that has exited meanwhile is skipped).
inject_into() {
  ns=$(readlink "/proc/$1/ns/mnt" 2>/dev/null) || return 0
  case $done_ns in *" $ns "*) return 0 ;; esac
  done_ns="$done_ns$ns "
  nsenter --mount="/proc/$1/ns/mnt" -- sh "$0" --mount-into "$stage" "$store" "$name"
  namespaces=$((namespaces + 1))
}

zygotes=$(pidof zygote zygote64 || true)
[ -n "$zygotes" ] || fail "no zygote or zygote64 process: is Android running?"
inject_into $$
for z in $zygotes; do inject_into "$z"; done
for status in /proc/[0-9]*/status; do
  ppid=$({ while read -r key value; do if [ "$key" = PPid: ]; then echo "$value"; break; fi; done <"$status"; } 2>/dev/null || true)
  for z in $zygotes; do
    if [ "$ppid" = "$z" ]; then
      pid=${status#/proc/}
      inject_into "${pid%/status}"
    fi
  done
done

count=0
for f in "$stage"/*; do count=$((count + 1)); done
echo "leakscope-ca: ok store=$store name=$name certificates=$count namespaces=$namespaces"
