#!/usr/bin/env bats
# ctrmig check: this host's readiness, as the user sees it.
bats_require_minimum_version 1.5.0
load helpers

@test "check passes on a host set up by make deps" {
    require_root
    require_runc
    require_criu
    run "$CTRMIG_BIN" check
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ok      runtime    runc version"* ]]
    [[ "$output" == *"criu check: looks good"* ]]
    [[ "$output" == *"ok      overlayfs"* ]]
    [[ "$output" == *"ok      iptables"* ]]
    [[ "$output" == *"ok      cni        bridge, host-local, portmap, firewall, tuning in"* ]]
    [[ "$output" == *"ok      nat"* ]]
}

@test "check names missing CNI plugins and how to get them" {
    require_root
    run env CTRMIG_CNI_PATH=/nonexistent "$CTRMIG_BIN" check
    [ "$status" -eq 125 ]
    [[ "$output" == *"FAIL    cni        missing in /nonexistent: bridge, host-local, portmap, firewall, tuning; fix: apt-get install containernetworking-plugins"* ]]
}

@test "check names a missing runtime and how to fix it, exit 125" {
    run "$CTRMIG_BIN" --runtime /nonexistent/runc check
    [ "$status" -eq 125 ]
    [[ "$output" == *"FAIL    runtime    runc not found; fix: run 'make deps'"* ]]
}

@test "check reports a missing CRIU" {
    require_root
    run env CTRMIG_HELPER_DIR=/nonexistent PATH=/usr/bin:/bin "$CTRMIG_BIN" check
    [ "$status" -eq 125 ]
    [[ "$output" == *"FAIL    criu"* ]]
}

@test "--help and --version work without a store" {
    run "$CTRMIG_BIN" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"Usage: ctrmig"* ]]
    [[ "$output" == *"checkpoint"* ]] || [[ "$output" == *"run "* ]]
    run "$CTRMIG_BIN" --version
    [ "$status" -eq 0 ]
    [[ "$output" == "ctrmig version "* ]]
    for cmd in run create start stop kill rm ps inspect logs top image check; do
        run "$CTRMIG_BIN" "$cmd" --help
        [ "$status" -eq 0 ] || { echo "$cmd --help failed: $output"; return 1; }
        [[ "$output" == *Usage:* ]]
    done
}

@test "an unknown command or option is a one-line error, exit 125" {
    run "$CTRMIG_BIN" frobnicate
    assert_one_line_error
    [[ "$output" == *"unknown command frobnicate"* ]]
    run "$CTRMIG_BIN" --bogus ps
    assert_one_line_error
}
