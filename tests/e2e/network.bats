#!/usr/bin/env bats
# Networking with the real CNI plugins: addresses, published ports, and a
# network identity that checkpoint, restore, archives and clones keep.
# Traffic goes only to the containers these tests make and to 127.0.0.1.

load helpers
load archive_helpers
load net_helpers

# What a container may leave on the host: none of it must remain.
assert_no_leak() { # id (or its first 12 hex)
    local id=$1 held
    [ -n "$id" ] || return 0
    held=$(find /var/lib/cni/networks -type f ! -name lock ! -name 'last_reserved_ip*' -exec grep -l "^$id" {} + 2>/dev/null || true)
    [ -z "$held" ] || { echo "host-local still holds $held" >&2; return 1; }
    ! grep -q "netns/$id" /proc/self/mounts || { echo "its netns is still mounted" >&2; return 1; }
    ! iptables-save | grep -q "id: \"$id" || { echo "iptables rules remain: $(iptables-save | grep "id: \"$id")" >&2; return 1; }
    # portmap names its chain by a hash; the store's own containers are all gone
    [ -z "$(ctrmig ps -aq)" ] || return 0
    ! iptables-save -t nat | grep -q "^:CNI-DN-" || { echo "a portmap chain remains" >&2; return 1; }
}

@test "a container gets an address on ctrmig0 that the host and other containers reach" {
    ctrmig run -d --name web busybox sh -c "$HTTP_COUNTER" >/dev/null
    local ip
    ip=$(ip_of ctrmig)
    [[ "$ip" == 10.99.0.* ]]
    [ "$(fetch "http://$ip/")" = 1 ]
    [ "$(fetch "http://$ip/")" = 2 ]
    [ "$(ctrmig inspect --format '{{.NetworkSettings.Gateway}}' web)" = 10.99.0.1 ]
    [[ "$(ctrmig inspect --format '{{.NetworkSettings.MacAddress}}' web)" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]]
    # another container reaches it by its address, and /etc/hosts names it
    run ctrmig run --rm busybox wget -q -O - "http://$ip/"
    [ "$status" -eq 0 ] && [ "$output" = 3 ]
    grep -q "^$ip	" "$(ctrmig inspect --format '{{.StoreDir}}' web)/etc/hosts"
    run ctrmig run --rm --hostname box --add-host db.local:10.99.0.200 --dns 10.99.0.53 busybox \
        sh -c 'hostname; grep db.local /etc/hosts; cat /etc/resolv.conf'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = box ]
    [[ "${lines[1]}" == "10.99.0.200	db.local" ]]
    [[ "$output" == *"nameserver 10.99.0.53"* ]]
    ctrmig network ls | grep -q '^[0-9a-f]\{12\}  ctrmig .*10.99.0.0/24 .*ctrmig0'
}

@test "-p publishes on the host, -P the exposed ports, port and ps show them" {
    ctrmig run -d --name web -p 127.0.0.1::80 --expose 9000 busybox sh -c "$HTTP_COUNTER" >/dev/null
    local hp
    hp=$(ctrmig port web 80/tcp)
    [[ "$hp" == 127.0.0.1:* ]]
    [ "$(fetch "http://$hp/")" = 1 ]
    run ctrmig port web
    [ "$output" = "80/tcp -> $hp" ]
    ctrmig ps | grep -q "$hp->80/tcp, 9000/tcp .*web"
    [ "$(ctrmig inspect --format '{{json .NetworkSettings.Ports}}' web | jq -r '."80/tcp"[0].HostPort')" = "${hp#*:}" ]
    # the same host port twice is refused before anything is made
    run ctrmig run -d --name web2 -p "127.0.0.1:${hp#*:}:80" busybox sleep 100
    assert_one_line_error
    [[ "$output" == *"already published by container web"* ]]
    # another store, which has no record of web: CNI's rules on the host say
    run b run -d --name web3 -p "127.0.0.1:${hp#*:}:80" busybox sleep 100
    assert_one_line_error
    [[ "$output" == *"host port ${hp#*:}/tcp is already published on this host, by container $(ctrmig inspect --format '{{.Id}}' web | cut -c1-12) of another store or engine (CNI portmap)"* ]]
    [ -z "$(b ps -aq)" ]
    # -P publishes every exposed port on a free host port
    ctrmig run -d --name all -P --expose 80 busybox sh -c "$HTTP_COUNTER" >/dev/null
    [ "$(fetch "http://127.0.0.1:$(ctrmig port all 80 | cut -d: -f2)/")" = 1 ]
}

@test "--network none has loopback only, host the host's, a named network its own subnet" {
    run ctrmig run --rm --network none busybox ip -o addr
    [ "$status" -eq 0 ]
    [[ "$output" == *"lo "* ]] && [[ "$output" != *eth0* ]]
    run ctrmig run --rm --network host busybox cat /proc/net/dev
    [[ "$output" == *ctrmig0* || "$output" == *"$(ip -o link | awk -F': ' 'NR==2 {print $2}')"* ]]
    local subnet
    subnet=$(ctrmig network create web-net)
    [ "$subnet" = web-net ]
    run ctrmig run --rm --network web-net --ip 10.99.1.77 busybox ip -o -4 addr show eth0
    [[ "$output" == *"10.99.1.77/24"* ]]
    run ctrmig run --rm --network web-net --ip 10.99.0.5 busybox true
    assert_one_line_error
    [[ "$output" == *"address 10.99.0.5 is not in network web-net's subnet 10.99.1.0/24"* ]]
    ctrmig create --name user --network web-net busybox true >/dev/null
    run ctrmig network rm web-net
    assert_one_line_error
    [[ "$output" == *"in use by container user"* ]]
    ctrmig rm user >/dev/null
    ctrmig network rm web-net
    ! ctrmig network ls -q | grep -qx web-net
    ! ip link show ctrmig1 2>/dev/null
    run ctrmig network rm ctrmig
    assert_one_line_error
}

@test "the seed: the counter keeps its address in place, via start --checkpoint, and through an archive" {
    ctrmig run -d --name web busybox sh -c "$HTTP_COUNTER" >/dev/null
    local ip mac
    ip=$(ip_of ctrmig)
    mac=$(ctrmig inspect --format '{{.NetworkSettings.MacAddress}}' web)
    [ "$(fetch "http://$ip/")" = 1 ]
    [ "$(fetch "http://$ip/")" = 2 ]
    # in place: the checkpoint frees the address, the restore takes it again
    ctrmig checkpoint web >/dev/null
    # the monitor releases it in the background, at once
    local i
    for i in $(seq 50); do [ -n "$(ctrmig inspect --format '{{.NetworkSettings.IPAddress}}' web)" ] || break; sleep 0.1; done
    [ -z "$(ctrmig inspect --format '{{.NetworkSettings.IPAddress}}' web)" ]
    ! ls /var/lib/cni/networks/ctrmig | grep -qx "$ip"
    ctrmig restore web >/dev/null
    [ "$(ip_of ctrmig)" = "$ip" ]
    [ "$(ctrmig inspect --format '{{.NetworkSettings.MacAddress}}' web)" = "$mac" ]
    [ "$(fetch "http://$ip/")" = 3 ]
    # Docker's named checkpoints
    ctrmig checkpoint create web c1 >/dev/null
    ctrmig start --checkpoint c1 web >/dev/null
    [ "$(fetch "http://$ip/")" = 4 ]
    # another host: export, remove here, restore there with the same address
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/web.tar.zst" web >/dev/null
    tar -xOf "$BATS_TEST_TMPDIR/web.tar.zst" network.status |
        jq -e --arg ip "$ip" --arg mac "$mac" '.ctrmig.interfaces.eth0 | .subnets[0].ipnet == ($ip + "/24") and .mac_address == $mac'
    ctrmig rm web >/dev/null
    b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" >/dev/null
    [ "$(ip_of b)" = "$ip" ]
    [ "$(fetch "http://$ip/")" = 5 ]
}

@test "--tcp-established: a held connection goes on after restore, in place and through an archive" {
    ctrmig run -d --name web busybox sh -c "$LINE_COUNTER" >/dev/null
    local ip line
    ip=$(ip_of ctrmig)
    for i in $(seq 50); do exec 7<>"/dev/tcp/$ip/7000" 2>/dev/null && break; sleep 0.1; done
    echo one >&7 && read -r -t 5 line <&7 && [ "$line" = "1 one" ]
    ctrmig checkpoint --tcp-established web >/dev/null
    ctrmig restore --tcp-established web >/dev/null
    echo two >&7 && read -r -t 10 line <&7 && [ "$line" = "2 two" ]
    ctrmig checkpoint --tcp-established -e "$BATS_TEST_TMPDIR/tcp.tar.zst" web >/dev/null
    ctrmig rm web >/dev/null
    b restore --tcp-established -i "$BATS_TEST_TMPDIR/tcp.tar.zst" >/dev/null
    echo three >&7 && read -r -t 10 line <&7 && [ "$line" = "3 three" ]
    exec 7>&-
    # a copy cannot take the connection's address
    run b restore --tcp-established -i "$BATS_TEST_TMPDIR/tcp.tar.zst" -n copy
    assert_one_line_error
    [[ "$output" == *"--tcp-established cannot be used with -n"* ]]
}

@test "three -n clones answer on three addresses; the original's address, once taken, is a clear error" {
    ctrmig run -d --name web -p 80 busybox sh -c "$HTTP_COUNTER" >/dev/null
    local ip
    ip=$(ip_of ctrmig)
    [ "$(fetch "http://$ip/")" = 1 ]
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/web.tar.zst" web >/dev/null
    ctrmig rm web >/dev/null
    # the archive publishes a host port: only -p (or trust) lets it do so
    run b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" -n c0
    assert_one_line_error
    [[ "$output" == *"host ports 0.0.0.0:"*"->80/tcp (-p, which replaces them)"* ]]
    local n ips=""
    for n in 1 2 3; do
        b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" -n "c$n" -p 80 >/dev/null
        local cip
        cip=$(b inspect --format '{{.NetworkSettings.IPAddress}}' "c$n")
        [ "$(fetch "http://$cip/")" = 2 ]
        ips="$ips $cip"
    done
    [ "$(echo $ips | tr ' ' '\n' | sort -u | wc -l)" = 3 ]
    # another container takes the address the original left (a clone may
    # have, host-local goes round); restoring the original then names who
    # holds it, and leaves nothing behind
    local holder="" c
    for c in c1 c2 c3; do
        [ "$(b inspect --format '{{.NetworkSettings.IPAddress}}' "$c")" != "$ip" ] || holder=$c
    done
    if [ -z "$holder" ]; then
        b run -d --name squatter --ip "$ip" busybox sleep 1000 >/dev/null
        holder=squatter
    fi
    run b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" -p 80
    assert_one_line_error
    [[ "$output" == *"address $ip on network ctrmig is held by container $holder"* ]]
    ! b ps -a --format json | jq -e '.[] | select(.Names == "web")'
    b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" --ignore-static-ip -p 80 >/dev/null
    [ "$(fetch "http://$(b inspect --format '{{.NetworkSettings.IPAddress}}' web)/")" = 2 ]
}

@test "the same container restored in two stores: the second restore is refused and takes nothing from the copy that runs" {
    local id ip
    id=$(ctrmig run -d --name web busybox sh -c "$HTTP_COUNTER")
    ip=$(ip_of ctrmig)
    [ "$(fetch "http://$ip/")" = 1 ]
    # exported, and its copy restored in store B with the same id and address;
    # checkpoint -e returns once the address is released, which would
    # otherwise race the copy's setup under the same id
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/web.tar.zst" web >/dev/null
    [ ! -e "/var/lib/cni/networks/ctrmig/$ip" ] || { echo "$ip still reserved after checkpoint -e" >&2; return 1; }
    b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" >/dev/null
    [ "$(ip_of b)" = "$ip" ]
    # The original, still checkpointed here, would take the address under
    # the id they share: a release under that id would take the copy's
    # reservation, and both would answer at one address.
    run ctrmig restore web
    assert_one_line_error
    [[ "$output" == *"address $ip on network ctrmig is held by this container's copy, running in another store"*"stop that one first" ]]
    [ "$(ctrmig inspect --format '{{.State.Status}}' web)" = checkpointed ]
    [ "$(head -n 1 "/var/lib/cni/networks/ctrmig/$ip" | tr -d '\r')" = "$id" ]
    [ "$(fetch "http://$ip/")" = 2 ]
    # once the copy is gone, the original takes it back, from its checkpoint
    b rm -f web >/dev/null
    ctrmig restore web >/dev/null
    [ "$(ip_of ctrmig)" = "$ip" ]
    [ "$(fetch "http://$ip/")" = 2 ]
}

@test "--ignore-static-mac: the same address with a new MAC" {
    ctrmig run -d --name web busybox sleep 1000 >/dev/null
    local ip mac
    ip=$(ip_of ctrmig)
    mac=$(ctrmig inspect --format '{{.NetworkSettings.MacAddress}}' web)
    ctrmig checkpoint -e "$BATS_TEST_TMPDIR/web.tar.zst" web >/dev/null
    ctrmig rm web >/dev/null
    b restore -i "$BATS_TEST_TMPDIR/web.tar.zst" --ignore-static-mac >/dev/null
    [ "$(ip_of b)" = "$ip" ]
    [ "$(b inspect --format '{{.NetworkSettings.MacAddress}}' web)" != "$mac" ]
}

@test "nothing leaks: rm, rm -f, a failed restore, a killed monitor, a killed ctrmig" {
    local id
    id=$(ctrmig run -d --name web -p 80 busybox sleep 1000)
    ctrmig stop -t 0 web >/dev/null
    assert_no_leak "$id"
    ctrmig start web >/dev/null
    ctrmig rm -f web >/dev/null
    assert_no_leak "$id"
    # a restore that fails in runc (its images damaged) releases what it took
    id=$(ctrmig run -d --name web busybox sleep 1000)
    ctrmig checkpoint web >/dev/null
    local dir
    dir=$(ctrmig inspect --format '{{.StoreDir}}' web)
    rm "$dir"/checkpoint/pstree.img
    run ctrmig restore web
    [ "$status" -eq 125 ]
    assert_no_leak "$id"
    ctrmig rm web >/dev/null
    # the monitor killed: rm -f releases the address itself
    id=$(ctrmig run -d --name web busybox sleep 1000)
    pkill -9 -f "__monitor.*$id"
    ctrmig rm -f web >/dev/null
    assert_no_leak "$id"
    # ctrmig killed at several points of run: rm -f leaves nothing
    local d pid
    for d in 0.02 0.05 0.1 0.2; do
        ctrmig run -d --name k busybox sleep 1000 >/dev/null & pid=$!
        sleep "$d"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        id=$(ctrmig ps -aq)
        ctrmig rm -f k >/dev/null 2>&1 || true
        assert_no_leak "$id"
    done
}

@test "network errors are one line and change nothing" {
    run ctrmig run --network nosuch busybox true
    assert_one_line_error
    [[ "$output" == *"network nosuch not found"* ]]
    run ctrmig run --network none -p 80 busybox true
    assert_one_line_error
    run ctrmig run --name gw --ip 10.99.0.1 busybox true
    assert_one_line_error
    [[ "$output" == *"gateway"* ]]
    # the failed ADD left nothing: no container, namespace or reservation
    ! grep -q "netns/" <(grep " /run/ctrmig/$(printf %s "$CTR_ROOT" | sha256sum | cut -c1-12)/" /proc/self/mounts)
    run ctrmig network create --subnet 192.0.2.0/24 clash
    [ "$status" -eq 125 ]
    run ctrmig network create --subnet 10.99.0.0/16 overlap
    assert_one_line_error
    [[ "$output" == *"overlaps network ctrmig"* ]]
    run ctrmig run -p 70000:80 busybox true
    assert_one_line_error
    [ -z "$(ctrmig ps -aq)" ]
}
