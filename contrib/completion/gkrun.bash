# shellcheck shell=bash disable=SC2207
# bash completion for gkrun.  Install as
# /usr/share/bash-completion/completions/gkrun (or source it).
# Container ids come from `gkrun [--root DIR] list --quiet`.

_gkrun_ids()
{
        local root=() i
        for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                case ${COMP_WORDS[i]} in
                --root | -root) root=(--root "${COMP_WORDS[i + 1]}") ;;
                --root=* | -root=*) root=(--root "${COMP_WORDS[i]#*=}") ;;
                esac
        done
        gkrun "${root[@]}" list --quiet 2>/dev/null
}

_gkrun()
{
        local cur prev words cword
        _init_completion -s || return

        local commands="create start run state kill delete list ps exec spec features update
                        pause resume events"
        local global="--root --log --log-format --debug --systemd-cgroup --rootless --help
                      --version"
        local cmd="" i
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                --root | --log | --log-format | --rootless) ((i++)) ;;
                -*) ;;
                *) cmd=${words[i]}; break ;;
                esac
        done

        case $prev in
        --root | --bundle | -b | --cwd)
                _filedir -d
                return ;;
        --log | --pid-file | --console-socket | --process | -p | --resources | -r)
                _filedir
                return ;;
        --log-format)
                COMPREPLY=($(compgen -W "text json" -- "$cur"))
                return ;;
        --format | -f)
                COMPREPLY=($(compgen -W "table json" -- "$cur"))
                return ;;
        --rootless)
                COMPREPLY=($(compgen -W "true false auto" -- "$cur"))
                return ;;
        --cap | -c)
                COMPREPLY=($(compgen -W "$(sed -n 's/^#define \(CAP_[A-Z_]*\) .*/\1/p' \
                        /usr/include/linux/capability.h 2>/dev/null)" -- "$cur"))
                return ;;
        esac

        if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "$global" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                fi
                return
        fi

        local flags="" wants_id=1
        case $cmd in
        create) flags="--bundle --pid-file --console-socket --no-pivot --no-new-keyring
                       --preserve-fds" ;;
        run) flags="--bundle --pid-file --console-socket --no-pivot --no-new-keyring
                    --preserve-fds --detach --keep" ;;
        start | state | pause | resume) ;;
        kill) flags="--all"
                if [[ $cur != -* ]] && ((cword - i >= 2)); then
                        COMPREPLY=($(compgen -W "$(compgen -A signal | sed 's/^SIG//')" \
                                -- "${cur#SIG}"))
                        return
                fi ;;
        delete) flags="--force" ;;
        list) flags="--quiet --format"; wants_id=0 ;;
        ps) flags="--format" ;;
        exec) flags="--process --tty --console-socket --cwd --env --user --additional-gids
                     --cap --no-new-privs --apparmor --process-label --detach --pid-file
                     --preserve-fds --ignore-paused --cgroup" ;;
        spec) flags="--bundle --rootless"; wants_id=0 ;;
        features) wants_id=0 ;;
        update) flags="--resources --memory --memory-reservation --memory-swap
                       --kernel-memory --kernel-memory-tcp --cpu-shares --cpu-quota
                       --cpu-period --cpu-burst --cpu-rt-period --cpu-rt-runtime --cpu-idle
                       --cpuset-cpus --cpuset-mems --pids-limit --blkio-weight" ;;
        events) flags="--stats --interval" ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        elif ((wants_id)); then
                COMPREPLY=($(compgen -W "$(_gkrun_ids)" -- "$cur"))
        fi
} && complete -F _gkrun gkrun
