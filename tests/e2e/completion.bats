#!/usr/bin/env bats
# ctrmig completion bash|zsh: the script completes commands, flags, container
# and image names; its flag table matches every command's --help.
bats_require_minimum_version 1.5.0
load helpers

setup() { require_containers; setup_store; }
teardown() { teardown_store; }

# Completes the words given (the last one being typed) as bash would, into COMPREPLY.
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    __ctrmig_complete || true
}

load_script() {
    "$CTRMIG_BIN" completion bash > "$BATS_TEST_TMPDIR/ctrmig.bash"
    source "$BATS_TEST_TMPDIR/ctrmig.bash"
}

replies() { printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '; }

@test "completion bash: commands, flags, container and image names" {
    load_script
    complete_line ctrmig che
    [ "$(replies)" = "check checkpoint " ]
    complete_line ctrmig ex
    [ "$(replies)" = "exec export " ]
    complete_line ctrmig run --netw
    [ "$(replies)" = "--network " ]
    complete_line ctrmig exec --env
    [ "$(replies)" = "--env --env-file " ]
    complete_line ctrmig --ro
    [ "$(replies)" = "--root " ]
    # names from the store the test's ctrmig (with its --root) looks at
    ctrmig run -d --name web busybox sleep 1000 >/dev/null
    ctrmig create --name idle busybox true >/dev/null
    complete_line ctrmig rm ""
    [ "$(replies)" = "idle web " ]
    complete_line ctrmig rm w
    [ "$(replies)" = "web " ]
    # exec: a container first, then the command is not a container
    complete_line ctrmig exec -e A=1 w
    [ "$(replies)" = "web " ]
    complete_line ctrmig exec web we
    [[ "$(replies)" != *web* ]]
    # run: an image first
    complete_line ctrmig run -d --name x busy
    [ "$(replies)" = "busybox busybox:latest " ]
    complete_line ctrmig image rm docker.io/library/b
    [ "$(replies)" = "docker.io/library/busybox:latest " ]
    complete_line ctrmig image ""
    [[ "$(replies)" == *"import "*"load "*"pull "* ]]
    complete_line ctrmig container r
    [[ "$(replies)" == "rename restart restore rm run " ]]
    complete_line ctrmig container rm ""
    [ "$(replies)" = "idle web " ]
    # a --root on the line is the store names come from
    local other
    other=$(mktemp -d /tmp/ctrmig-e2e-c.XXXXXX)
    complete_line "$CTRMIG_BIN" --root "$CTR_ROOT" stop ""
    [ "$(replies)" = "idle web " ]
    complete_line "$CTRMIG_BIN" --root "$other" stop ""
    [ "$(replies)" = " " ]
    rm -rf "$other"
}

@test "completion: the flag table matches every command's --help" {
    load_script
    local cmd spec flags long help help_flags bad=
    for cmd in $_ctrmig_commands; do
        case $cmd in image | network | trust | check | container | completion) continue ;; esac
        spec=$(_ctrmig_spec "$cmd")
        flags=${spec#*|}
        flags=" ${flags%%|*} "
        flags=${flags//=/}
        help=$(ctrmig "$cmd" --help)
        # create's help says: the options of run except -d
        [ "$cmd" != create ] || help=$(ctrmig run --help | grep -v -- --detach)
        # long options as --help defines them: lines that start with -x, --long or --long
        help_flags=$(grep -E '^ +(-[a-zA-Z], )?--[a-z]' <<<"$help" |
            sed -E 's/^ +(-[a-zA-Z], )?(--[a-z][-a-z]*).*/\2/' | sort -u)
        for long in $help_flags; do
            [[ "$flags" == *" $long "* ]] || bad+=" $cmd:$long(missing)"
        done
        for long in $flags; do
            [[ $long == --* ]] || continue
            grep -qE -- "$long([ =,[]|\$)" <<<"$help" || bad+=" $cmd:$long(not in --help)"
        done
    done
    [ -z "$bad" ] || { echo "flag table and --help differ:$bad" >&2; return 1; }
}

@test "completion zsh, errors, --help, make install" {
    run "$CTRMIG_BIN" completion zsh
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "#compdef ctrmig" ]
    [[ "$output" == *bashcompinit* ]]
    [[ "$output" == *"complete -o default -F __ctrmig_complete ctrmig"* ]]
    run "$CTRMIG_BIN" completion fish
    assert_one_line_error
    run "$CTRMIG_BIN" completion
    assert_one_line_error
    run "$CTRMIG_BIN" completion --help
    [ "$status" -eq 0 ] && [[ "$output" == "Usage: ctrmig completion"* ]]
    # make install puts both where bash-completion and zsh look
    [ -x "$TOP/ctrmig" ] && make -C "$TOP" -q ctrmig 2>/dev/null || need "the repository's ctrmig is not built"
    make -s -C "$TOP" install DESTDIR="$BATS_TEST_TMPDIR/d" PREFIX=/usr >/dev/null
    cmp "$BATS_TEST_TMPDIR/d/usr/share/bash-completion/completions/ctrmig" <("$TOP/ctrmig" completion bash)
    cmp "$BATS_TEST_TMPDIR/d/usr/share/zsh/vendor-completions/_ctrmig" <("$TOP/ctrmig" completion zsh)
    [ -f "$BATS_TEST_TMPDIR/d/usr/share/man/man1/ctrmig-exec.1" ]
}
