# shellcheck shell=bash disable=SC2207
# bash completion for gkimg.  Install as
# /usr/share/bash-completion/completions/gkimg (or source it).
# Image names come from `gkimg [--root DIR] images` (REPOSITORY:TAG).

_gkimg_images()
{
        local root=() i
        for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                case ${COMP_WORDS[i]} in
                --root | -root) root=(--root "${COMP_WORDS[i + 1]}") ;;
                --root=* | -root=*) root=(--root "${COMP_WORDS[i]#*=}") ;;
                esac
        done
        gkimg "${root[@]}" images 2>/dev/null |
                awk 'NR > 1 && $2 != "<none>" { print $1 ":" $2 }'
}

_gkimg()
{
        local cur prev words cword
        _init_completion -s || return

        local commands="pull images inspect rmi gc check login logout bundle unbundle import export push copy tags tag untag history"
        local cmd="" i nargs=0
        for ((i = 1; i < cword; i++)); do
                case ${words[i]} in
                --root | --registries-conf) ((i++)) ;;
                -*) ;;
                *) cmd=${words[i]}; break ;;
                esac
        done
        # Positional arguments already given after the command.
        local j
        for ((j = i + 1; j < cword; j++)); do
                case ${words[j]} in
                --platform | --cert-dir | --parallel | --format | --mem | -m | --memory | \
                --cpus | --pids | --net | --publish | -p | --env | -e | --workdir | -w | \
                --user | -u | --hostname | --username | --password | --creds | --authfile)
                        ((j++)) ;;
                -*) ;;
                *) ((nargs++)) ;;
                esac
        done

        case $prev in
        --root | --cert-dir)
                _filedir -d
                return ;;
        --registries-conf | --authfile)
                _filedir
                return ;;
        --format)
                COMPREPLY=($(compgen -W "table json" -- "$cur"))
                return ;;
        --net)
                COMPREPLY=($(compgen -W "none host bridge" -- "$cur"))
                return ;;
        --tls-verify)
                COMPREPLY=($(compgen -W "true false" -- "$cur"))
                return ;;
        --platform)
                COMPREPLY=($(compgen -W "linux/amd64 linux/arm64 linux/arm/v7 linux/386
                                         linux/ppc64le linux/s390x" -- "$cur"))
                return ;;
        --mem | -m | --memory | --cpus | --pids | --publish | -p | --env | -e | --workdir | \
        -w | --user | -u | --hostname | --username | --password | --parallel | --creds | \
        --page-size)
                return ;;
        esac

        if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "--root --debug --registries-conf --help --version" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
                fi
                return
        fi

        local flags=""
        case $cmd in
        pull) flags="--platform --all-platforms --tls-verify --cert-dir --creds --authfile --quiet --parallel" ;;
        images) flags="--format --quiet --digests --filter" ;;
        history) flags="--no-trunc --human --quiet --format" ;;
        rmi) flags="--force" ;;
        login) flags="--username --password --password-stdin --tls-verify --cert-dir --authfile" ;;
        logout) flags="--authfile" ;;
        bundle) flags="--copy --mem --cpus --pids --net --publish --env --workdir --user
                       --hostname --tty --allow-devices" ;;
        import) flags="--allow-devices" ;;
        check) flags="--repair --tls-verify --cert-dir" ;;
        push) flags="--tls-verify --cert-dir --creds --authfile --parallel --quiet" ;;
        tags) flags="--page-size --tls-verify --cert-dir --creds --authfile" ;;
        copy) flags="--all --platform --tls-verify --src-tls-verify --dest-tls-verify --cert-dir
                     --src-cert-dir --dest-cert-dir --src-creds --dest-creds --parallel --quiet" ;;
        export) flags="--format --all-platforms" ;;
        inspect) flags="--raw --config --tls-verify --cert-dir --creds --authfile" ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$flags" -- "$cur"))
                return
        fi
        case $cmd:$nargs in
        inspect:* | rmi:* | bundle:0 | export:0 | push:0 | tag:0 | untag:* | history:0)
                COMPREPLY=($(compgen -W "$(_gkimg_images)" -- "$cur")) ;;
        bundle:1 | unbundle:0)
                _filedir -d ;;
        import:0 | export:1)
                _filedir ;;
        esac
} && complete -F _gkimg gkimg
