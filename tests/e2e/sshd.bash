# A private sshd on 127.0.0.1 for migrate's tests and bench/migrate.sh: a free
# port found at run time, a host key and a client key generated into DIR, its
# own config, authorized_keys and pid file there. The system's sshd config and
# service are never read, used or changed. Sourced (bats: load sshd).

# Starts it; sets SSHD_PORT and writes DIR/known_hosts for the client.
# Client: ssh -i DIR/client_key -o UserKnownHostsFile=DIR/known_hosts
#         -o StrictHostKeyChecking=yes -p $SSHD_PORT root@127.0.0.1
sshd_start() { # dir
    local dir=$1 _
    mkdir -p "$dir"
    ssh-keygen -q -t ed25519 -N '' -C host -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -C client -f "$dir/client_key"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    # sshd insists on its privilege separation folder; an empty one, nothing else
    mkdir -p /run/sshd
    SSHD_PORT=
    for _ in $(seq 20); do
        SSHD_PORT=$((20000 + RANDOM % 40000))
        ss -ltn "sport = :$SSHD_PORT" | grep -q LISTEN && { SSHD_PORT=; continue; }
        cat > "$dir/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $dir/sshd.pid
CFG
        # it exits at once if the port was taken meanwhile: then another
        # (fd 3 closed: under bats it must not outlive the test holding it)
        /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/log" 3>&- && break
        SSHD_PORT=
    done
    [ -n "$SSHD_PORT" ] || { echo "sshd did not start: $(tail -n 3 "$dir/log" 2>/dev/null)" >&2; return 1; }
    echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
}

sshd_stop() { # dir
    if [ -f "$1/sshd.pid" ]; then
        kill "$(cat "$1/sshd.pid")" 2>/dev/null || true
    fi
}
