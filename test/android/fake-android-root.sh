#!/bin/bash
# Test harness, run as root under `unshare --mount --pid --fork --propagation private`: turns ROOT into a
# filesystem laid out like Android's (the test fills its stores), pivots into it, starts stand-ins for zygote,
# zygote64, an app forked by zygote64 and a bystander, each in its own mount namespace, runs the device script
# under dash as leakscope would on a phone, and lists every namespace's store. Everything it mounts lives in this
# private namespace and its children and disappears with them; this bash is PID 1 of a new PID namespace, so
# its stand-ins die with it.
set -euo pipefail
ROOT=$1
CERT_NAME=$2
RUNS=${3:-1}

mount --bind "$ROOT" "$ROOT"
for d in usr etc dev; do
  mkdir -p "$ROOT/$d"
  mount --rbind "/$d" "$ROOT/$d"
done
for l in bin lib lib64 sbin; do [ -e "$ROOT/$l" ] || ln -s "usr/$l" "$ROOT/$l"; done
mkdir -p "$ROOT/proc" "$ROOT/tmp" "$ROOT/old"
cd "$ROOT"
pivot_root . old
mount -t proc proc /proc
umount -l /old
rmdir /old

cat >/tmp/zygote64.sh <<'ZYGOTE'
unshare --mount --propagation private sleep 600 &
echo $! >/tmp/app.pid
wait
ZYGOTE
unshare --mount --propagation private bash -c 'exec -a zygote64 bash /tmp/zygote64.sh' &
unshare --mount --propagation private bash -c 'exec -a zygote sleep 600' &
unshare --mount --propagation private sleep 600 &
bystander=$!

# Wait (bounded) until the app has its own namespace and the zygotes are named.
for _ in $(seq 200); do
  if [ -s /tmp/app.pid ]; then
    app=$(cat /tmp/app.pid)
    if [ "$(cat /proc/"$app"/comm 2>/dev/null)" = sleep ] && [ -n "$(pidof zygote)" ]; then break; fi
  fi
  sleep 0.05
done
zygote64=$(pidof zygote64)
zygote=$(pidof zygote)
[ "$(readlink /proc/"$app"/ns/mnt)" != "$(readlink /proc/"$zygote64"/ns/mnt)" ] || { echo "app shares zygote64's namespace" >&2; exit 1; }

store=/system/etc/security/cacerts
[ -d /apex/com.android.conscrypt/cacerts ] && store=/apex/com.android.conscrypt/cacerts
list() {
  echo "LIST $1 $(nsenter --mount="/proc/$2/ns/mnt" ls "$store" | tr '\n' ' ')"
  echo "MOUNTS $1 $(grep -c '^leakscope-ca ' "/proc/$2/mounts" || true)"
}
list before-zygote64 "$zygote64"

for _ in $(seq "$RUNS"); do
  set +e
  dash /data/local/tmp/leakscope/inject-ca.sh "/data/local/tmp/leakscope/$CERT_NAME"
  echo "EXIT $?"
  set -e
done

list self $$
list zygote64 "$zygote64"
list zygote "$zygote"
list app "$app"
list bystander "$bystander"
