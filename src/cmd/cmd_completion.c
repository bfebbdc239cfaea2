/* ctrmig completion bash|zsh: a shell script that completes ctrmig's
 * commands, their flags, container and image names.
 *
 * Commands come from main's command table. Flags come from the table below,
 * written into the script, rather than from parsing `ctrmig CMD --help` at
 * completion time: --help opens the store (it fails for a user who cannot
 * read it, and for a store that does not exist yet), a process per TAB is
 * slow, and the usage texts are prose. tests/e2e/completion.bats checks this
 * table against every command's --help, both ways, so it cannot drift
 * silently. A flag that takes a value ends in '=': the script then completes
 * file names after it and does not count its value as an argument. */
#include "cli.h"
#include "error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* What a command's arguments are. */
enum arg_kind { ARGS_FILES, ARGS_CTRS, ARGS_CTR1, ARGS_IMAGE1, ARGS_IMAGES };
static const char *const kind_names[] = { "files", "ctrs", "ctr1", "image1", "images" };

struct compl_entry {
	const char *key; /* "run", or "image rm" for a group's command */
	enum arg_kind args;
	const char *flags;
	const char *subs; /* a group's commands */
};

#define HELP "-h --help"
#define LATEST "-l --latest"

static const struct compl_entry table[] = {
	{ "check", ARGS_FILES, HELP, NULL },
	{ "image", ARGS_FILES, HELP, "pull push load save import tag ls rm inspect" },
	{ "image push", ARGS_IMAGE1, "-q --quiet --tls-verify= --authfile= " HELP, NULL },
	{ "image pull", ARGS_FILES, "-q --quiet --tls-verify= --authfile= --creds= " HELP, NULL },
	{ "image load", ARGS_FILES, "-q -i= " HELP, NULL },
	{ "image save", ARGS_IMAGES, "-o= --format= " HELP, NULL },
	{ "image import", ARGS_FILES, HELP, NULL },
	{ "image tag", ARGS_IMAGE1, HELP, NULL },
	{ "image ls", ARGS_FILES, "-q " HELP, NULL },
	{ "image rm", ARGS_IMAGES, "-f " HELP, NULL },
	{ "image inspect", ARGS_IMAGES, HELP, NULL },
	{ "pull", ARGS_FILES, "-q --quiet --tls-verify= --authfile= --creds= " HELP, NULL },
	{ "push", ARGS_IMAGE1, "-q --quiet --tls-verify= --authfile= " HELP, NULL },
	{ "run", ARGS_IMAGE1,
	  "-d --detach -i --interactive -t --tty --detach-keys= --name= --rm -e= --env= -w= --workdir= -u= --user= --entrypoint= --tmpfs= "
	  "-v= --volume= --network= -p= --publish= -P --publish-all --expose= --ip= --mac-address= "
	  "--hostname= --dns= --dns-search= --dns-option= --add-host= --privileged --cap-add= "
	  "--cap-drop= --device= " HELP, NULL },
	{ "create", ARGS_IMAGE1,
	  "-i --interactive -t --tty --name= --rm -e= --env= -w= --workdir= -u= --user= --entrypoint= --tmpfs= "
	  "-v= --volume= --network= -p= --publish= -P --publish-all --expose= --ip= --mac-address= "
	  "--hostname= --dns= --dns-search= --dns-option= --add-host= --privileged --cap-add= "
	  "--cap-drop= --device= " HELP, NULL },
	{ "start", ARGS_CTRS, "-a --attach --detach-keys= --checkpoint= --checkpoint-dir= " LATEST " " HELP, NULL },
	{ "stop", ARGS_CTRS, "-t= --time= -a --all " LATEST " " HELP, NULL },
	{ "kill", ARGS_CTRS, "-s= --signal= " LATEST " " HELP, NULL },
	{ "rm", ARGS_CTRS, "-f --force -a --all " LATEST " " HELP, NULL },
	{ "checkpoint", ARGS_CTRS,
	  "-a --all " LATEST " -R --leave-running -k --keep --tcp-established --file-locks "
	  "-P --pre-checkpoint --with-previous --print-stats -e= --export= -c= --compress= "
	  "--ignore-rootfs --include-image --sign-key= --create-image= -q --quiet " HELP, "create ls rm" },
	{ "checkpoint create", ARGS_CTR1, "--leave-running --checkpoint-dir= " HELP, NULL },
	{ "checkpoint ls", ARGS_CTRS, "--checkpoint-dir= " HELP, NULL },
	{ "checkpoint rm", ARGS_CTR1, "--checkpoint-dir= " HELP, NULL },
	{ "restore", ARGS_CTRS,
	  "-a --all " LATEST " -k --keep --tcp-established --file-locks --print-stats -i= --import= "
	  "-n= --name= --import-previous= --ignore-rootfs --ignore-static-ip --ignore-static-mac --lazy -q --quiet "
	  "-v= --volume= --privileged --cap-add= --device= --network= -p= --publish= "
	  "--trust-archive-config --tls-verify= " HELP, NULL },
	{ "export", ARGS_CTRS,
	  "-o= --output= -c= --compress= --ignore-rootfs --include-image -P --pre-checkpoint "
	  "--sign-key= " HELP, NULL },
	{ "import", ARGS_FILES,
	  "--name= --import-previous= --with-previous --ignore-rootfs -v= --volume= --privileged "
	  "--cap-add= --device= --network= -p= --publish= --trust-archive-config --tls-verify= " HELP, NULL },
	{ "attach", ARGS_CTR1, "--detach-keys= --no-stdin " LATEST " " HELP, NULL },
	{ "migrate", ARGS_CTR1,
	  "--ssh-command= --remote-root= --remote-ctrmig= --to-root= --tcp-established --file-locks "
	  "--include-image -c= --compress= --print-stats --lazy --pre-copy -q --quiet " HELP, NULL },
	{ "trust", ARGS_FILES, HELP, "key add ls rm" },
	{ "trust key", ARGS_FILES, "--fingerprint " HELP, NULL },
	{ "trust add", ARGS_FILES, "-n= --name= " HELP, NULL },
	{ "trust ls", ARGS_FILES, "--format= " HELP, NULL },
	{ "trust rm", ARGS_FILES, HELP, NULL },
	{ "ps", ARGS_FILES, "-a --all -q --quiet -f= --filter= --format= --no-trunc -n= --last= " LATEST " " HELP, NULL },
	{ "inspect", ARGS_CTRS, "-f= --format= " LATEST " " HELP, NULL },
	{ "logs", ARGS_CTRS, "-f --follow " LATEST " " HELP, NULL },
	{ "exec", ARGS_CTR1,
	  "-i --interactive -t --tty -d --detach -e= --env= --env-file= -w= --workdir= -u= --user= "
	  "--privileged " LATEST " " HELP, NULL },
	{ "top", ARGS_CTR1, LATEST " " HELP, NULL },
	{ "port", ARGS_CTR1, LATEST " " HELP, NULL },
	{ "network", ARGS_FILES, HELP, "create ls inspect rm" },
	{ "network create", ARGS_FILES, "--subnet= " HELP, NULL },
	{ "network ls", ARGS_FILES, "-q --quiet " HELP, NULL },
	{ "network inspect", ARGS_FILES, HELP, NULL },
	{ "network rm", ARGS_FILES, HELP, NULL },
	{ "pause", ARGS_CTRS, "-a --all " LATEST " " HELP, NULL },
	{ "unpause", ARGS_CTRS, "-a --all " LATEST " " HELP, NULL },
	{ "wait", ARGS_CTRS, LATEST " " HELP, NULL },
	{ "restart", ARGS_CTRS, "-t= --time= -a --all --running " LATEST " " HELP, NULL },
	{ "rename", ARGS_CTR1, HELP, NULL },
	{ "diff", ARGS_CTR1, "--format= " LATEST " " HELP, NULL },
	{ "cp", ARGS_CTRS, HELP, NULL },
	{ "stats", ARGS_CTRS, "--no-stream -a --all " LATEST " " HELP, NULL },
	{ "container", ARGS_FILES, HELP,
	  "ls list ps rm inspect logs top start stop kill restart wait pause unpause rename stats "
	  "diff cp create run checkpoint restore export import exec prune" },
	{ "container prune", ARGS_FILES, "-f --force " HELP, NULL },
	{ "completion", ARGS_FILES, HELP, "bash zsh" },
};

static const char completion_usage[] =
	"Usage: ctrmig completion bash|zsh\n"
	"\n"
	"Print a script that completes ctrmig's commands, flags, container and image\n"
	"names in bash or zsh. Load it for this shell with\n"
	"  source <(ctrmig completion bash)\n"
	"or install it: 'make install' puts it where bash-completion and zsh look.\n"
	"Container and image names are looked up as you type (as root: the store is\n"
	"root's), in the store that --root on the line names.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

/* The bash functions; zsh runs them through bashcompinit. ksharrays and
 * shwordsplit make zsh index and split as bash does. */
static const char script_body[] =
	"_ctrmig_compat() { [ -z \"${ZSH_VERSION:-}\" ] || setopt localoptions ksharrays shwordsplit; }\n"
	"\n"
	"# Names from the store, through the same ctrmig and --root as the line.\n"
	"_ctrmig_names() { # ctrs|images\n"
	"    _ctrmig_compat\n"
	"    if [ \"$1\" = ctrs ]; then\n"
	"        \"${COMP_WORDS[0]}\" \"${_ctrmig_global[@]}\" ps -a --format '{{.Names}}' 2>/dev/null\n"
	"    else\n"
	"        \"${COMP_WORDS[0]}\" \"${_ctrmig_global[@]}\" image ls 2>/dev/null | awk 'NR > 1 && $1 != \"<none>\" {\n"
	"            n = $1; if ($2 != \"<none>\") n = n \":\" $2; print n\n"
	"            if (sub(/^docker\\.io\\/library\\//, \"\", $1)) { print $1; if ($2 != \"<none>\") print $1 \":\" $2 }\n"
	"        }'\n"
	"    fi\n"
	"}\n"
	"\n"
	"__ctrmig_complete() {\n"
	"    _ctrmig_compat\n"
	"    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	"    local i=1 key= spec flags subs kind n=0 w\n"
	"    _ctrmig_global=()\n"
	"    COMPREPLY=()\n"
	"    while [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
	"        w=${COMP_WORDS[i]}\n"
	"        case $w in\n"
	"        --root|--config-dir|--runtime|--log-level)\n"
	"            _ctrmig_global+=(\"$w\" \"${COMP_WORDS[i+1]}\"); i=$((i + 2)) ;;\n"
	"        -*) i=$((i + 1)) ;;\n"
	"        *) key=$w; i=$((i + 1)); break ;;\n"
	"        esac\n"
	"    done\n"
	"    if [ -z \"$key\" ]; then\n"
	"        case $prev in\n"
	"        --root|--config-dir|--runtime) COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n"
	"        --log-level) COMPREPLY=($(compgen -W 'error warn info debug' -- \"$cur\")); return 0 ;;\n"
	"        esac\n"
	"        if [[ $cur == -* ]]; then\n"
	"            COMPREPLY=($(compgen -W \"$_ctrmig_global_flags\" -- \"$cur\"))\n"
	"        else\n"
	"            COMPREPLY=($(compgen -W \"$_ctrmig_commands\" -- \"$cur\"))\n"
	"        fi\n"
	"        return 0\n"
	"    fi\n"
	"    spec=$(_ctrmig_spec \"$key\")\n"
	"    subs=${spec#*|}; subs=${subs#*|}\n"
	"    # a group's command: the next word that is not a flag\n"
	"    if [ -n \"$subs\" ]; then\n"
	"        while [ \"$i\" -lt \"$COMP_CWORD\" ] && [[ ${COMP_WORDS[i]} == -* ]]; do i=$((i + 1)); done\n"
	"        if [ \"$i\" -eq \"$COMP_CWORD\" ] && [[ $cur != -* ]]; then\n"
	"            COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
	"            # checkpoint's containers are arguments too\n"
	"            [ \"$key\" = checkpoint ] && COMPREPLY+=($(compgen -W \"$(_ctrmig_names ctrs)\" -- \"$cur\"))\n"
	"            return 0\n"
	"        fi\n"
	"        if [ \"$i\" -lt \"$COMP_CWORD\" ] && [[ \" $subs \" == *\" ${COMP_WORDS[i]} \"* ]]; then\n"
	"            w=${COMP_WORDS[i]}\n"
	"            [ \"$key\" = container ] && case $w in ls|list) w=ps ;; esac\n"
	"            if [ \"$key\" = container ] && [ \"$w\" != prune ]; then key=$w; else key=\"$key $w\"; fi\n"
	"            i=$((i + 1))\n"
	"            spec=$(_ctrmig_spec \"$key\")\n"
	"        fi\n"
	"    fi\n"
	"    kind=${spec%%|*}; flags=${spec#*|}; flags=${flags%%|*}\n"
	"    if [[ $cur == -* ]]; then\n"
	"        COMPREPLY=($(compgen -W \"${flags//=/}\" -- \"$cur\"))\n"
	"        return 0\n"
	"    fi\n"
	"    if [[ $prev == -* ]] && [[ \" $flags \" == *\" $prev= \"* ]]; then\n"
	"        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"        return 0\n"
	"    fi\n"
	"    # arguments before this one, values of flags left out\n"
	"    while [ \"$i\" -lt \"$COMP_CWORD\" ]; do\n"
	"        w=${COMP_WORDS[i]}\n"
	"        if [[ $w == -* ]]; then\n"
	"            [[ \" $flags \" == *\" $w= \"* ]] && i=$((i + 1))\n"
	"        else\n"
	"            n=$((n + 1))\n"
	"        fi\n"
	"        i=$((i + 1))\n"
	"    done\n"
	"    case $kind:$n in\n"
	"    ctrs:*|ctr1:0) COMPREPLY=($(compgen -W \"$(_ctrmig_names ctrs)\" -- \"$cur\")) ;;\n"
	"    images:*|image1:0) COMPREPLY=($(compgen -W \"$(_ctrmig_names images)\" -- \"$cur\")) ;;\n"
	"    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
	"    esac\n"
	"    return 0\n"
	"}\n";

static void print_tables(FILE *out)
{
	size_t n;
	const struct cm_cmd *cmds = cm_cli_commands(&n);
	fputs("_ctrmig_commands='", out);
	for (size_t i = 0; i < n; i++)
		if (!(cmds[i].flags & CM_CMD_HIDDEN))
			fprintf(out, "%s ", cmds[i].name);
	fputs("container'\n", out);
	fputs("_ctrmig_global_flags='--root= --config-dir= --runtime= --log-level= -v --version -h --help'\n"
	      "_ctrmig_global_flags=${_ctrmig_global_flags//=/}\n\n", out);
	fputs("# KIND|FLAGS|COMMANDS of a command: what its arguments are (files, ctrs: containers,\n"
	      "# ctr1: a container first, image1, images), its flags ('=': takes a value), a\n"
	      "# group's commands\n"
	      "_ctrmig_spec() {\n    case $1 in\n", out);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		fprintf(out, "    '%s') echo '%s|%s|%s' ;;\n", table[i].key, kind_names[table[i].args],
			table[i].flags, table[i].subs ? table[i].subs : "");
	fputs("    *) echo 'files|-h --help|' ;;\n    esac\n}\n\n", out);
}

int cm_cmd_completion(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	(void)st;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "+h", longopts, completion_usage, err)) != -1)
		return c == 'h' ? 0 : -1;
	if (argc - optind != 1)
		return cm_err(err, 0, "completion takes one shell: bash or zsh (see --help)");
	const char *shell = argv[optind];
	bool zsh = !strcmp(shell, "zsh");
	if (!zsh && strcmp(shell, "bash"))
		return cm_err(err, 0, "completion %s: ctrmig completes bash and zsh", shell);
	if (zsh)
		fputs("#compdef ctrmig\n"
		      "# zsh completion for ctrmig, from 'ctrmig completion zsh': the bash\n"
		      "# completion through zsh's bashcompinit.\n"
		      "autoload -U +X bashcompinit && bashcompinit\n\n",
		      stdout);
	else
		fputs("# bash completion for ctrmig, from 'ctrmig completion bash'\n\n", stdout);
	print_tables(stdout);
	fputs(script_body, stdout);
	fputs("\ncomplete -o default -F __ctrmig_complete ctrmig\n", stdout);
	/* Installed as _ctrmig, the file is that function's autoloaded body:
	 * then it completes this first TAB too (later ones go straight to
	 * __ctrmig_complete through bashcompinit's compdef). */
	if (zsh)
		fputs("[ \"${funcstack[1]:-}\" != _ctrmig ] || _bash_complete -o default -F __ctrmig_complete\n",
		      stdout);
	return 0;
}
