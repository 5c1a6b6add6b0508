/* gkimg login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]
 * gkimg logout [REGISTRY]
 * Credentials are checked against the registry before they are saved where
 * podman login saves them (authfiles.h: --authfile, $REGISTRY_AUTH_FILE,
 * else ${XDG_RUNTIME_DIR}/containers/auth.json, or a credential helper its
 * credHelpers names).  logout removes them from there and from Docker's
 * config file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "authfiles.h"
#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "reference.h"
#include "registry.h"

/* "https://index.docker.io/v1/", "registry-1.docker.io", "host:5000/" ->
 * the domain references use. */
static int normalize_domain(const char *arg, char **out, gk_error **err)
{
        const char *s = arg ? arg : GK_DOCKER_DOMAIN;
        size_t n;

        if (!strncmp(s, "https://", 8))
                s += 8;
        else if (!strncmp(s, "http://", 7))
                s += 7;
        n = strcspn(s, "/");
        if (n == 0)
                return gk_error_make(err, 0, "`%s` is not a registry", arg);
        if ((n == 15 && !strncmp(s, "index.docker.io", 15)) ||
            (n == 20 && !strncmp(s, "registry-1.docker.io", 20)))
                s = GK_DOCKER_DOMAIN, n = strlen(s);
        *out = strndup(s, n);
        if (!*out)
                return gk_error_make(err, ENOMEM, "login");
        for (char *p = *out; *p; p++)
                if (*p <= ' ' || *p == '@')
                        return gk_error_make(err, 0, "`%s` is not a registry", arg);
        return 0;
}

/* One line from F without its newline; echo off when F is a terminal. */
static int read_line(FILE *f, bool secret, char **out, gk_error **err)
{
        struct termios old, quiet;
        bool tty = secret && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0;
        size_t cap = 0;
        ssize_t n;

        if (tty) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                tcsetattr(fileno(f), TCSAFLUSH, &quiet);
        }
        *out = NULL;
        n = getline(out, &cap, f);
        if (tty) {
                tcsetattr(fileno(f), TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(*out);
                *out = NULL;
                return gk_error_make(err, 0, "login: no %s given",
                                     secret ? "password" : "username");
        }
        while (n > 0 && ((*out)[n - 1] == '\n' || (*out)[n - 1] == '\r'))
                (*out)[--n] = '\0';
        return 0;
}

static int ask(const char *prompt, const char *given, bool secret, char **out, gk_error **err)
{
        if (given) {
                *out = strdup(given);
                return *out ? 0 : gk_error_make(err, ENOMEM, "login");
        }
        if (!isatty(STDIN_FILENO))
                return gk_error_make(err, 0, "login: no %s given (use %s)",
                                     secret ? "password" : "username",
                                     secret ? "--password-stdin" : "-u");
        fprintf(stderr, "%s: ", prompt);
        return read_line(stdin, secret, out, err);
}

int cmd_login(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_free_ char *domain = NULL, *user = NULL, *pass = NULL, *file = NULL;
        const char *username = NULL, *password = NULL, *cert_dir = NULL, *authfile = NULL;
        bool from_stdin = false, tls_verify = true;
        const gk_opt opts[] = {
                { "username", 'u', GK_OPT_STRING, &username, "USER",
                  "user name (asked when not given)" },
                { "password", 'p', GK_OPT_STRING, &password, "PASSWORD",
                  "password (asked when not given)" },
                { "password-stdin", 0, GK_OPT_BOOL, &from_stdin, NULL,
                  "read the password from stdin" },
                { "tls-verify", 0, GK_OPT_BOOL, &tls_verify, NULL,
                  "verify the registry's certificate (--tls-verify=false: do not)" },
                { "cert-dir", 0, GK_OPT_STRING, &cert_dir, "DIR",
                  "CA certificates (*.crt) for the registry" },
                { "authfile", 0, GK_OPT_STRING, &authfile, "FILE",
                  "where to save them (default: $REGISTRY_AUTH_FILE, else "
                  "$XDG_RUNTIME_DIR/containers/auth.json)" },
                { 0 },
        };
        gk_registry_opts ro;
        int first, r;

        if (gk_opts_parse(argc, argv, "login", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first + 1 < argc)
                return gk_error_make(err, 0, "login: unexpected argument `%s`", argv[first + 1]);
        if (from_stdin && (password || !username))
                return gk_error_make(err, 0, "login: --password-stdin needs -u and no -p");
        if (normalize_domain(first < argc ? argv[first] : NULL, &domain, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (ask("Username", username, false, &user, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        r = from_stdin ? read_line(stdin, false, &pass, err)
                       : ask("Password", password, true, &pass, err);
        if (r < 0)
                return r;
        if (!*user || !*pass)
                return gk_error_make(err, 0, "login: empty username or password");
        ro = (gk_registry_opts){ .insecure = !tls_verify,
                                 .cert_dir = cert_dir,
                                 .debug = g->debug };
        r = gk_registry_check_login(domain, &ro, user, pass, err);
        if (r == 0)
                r = gk_auth_primary_file(authfile, &file, err);
        if (r == 0)
                r = gk_auth_save_file(file, false, domain, user, pass, err);
        explicit_bzero(pass, strlen(pass));
        if (r < 0)
                return gk_error_wrap(err, "login");
        printf("Login Succeeded\n");
        return 0;
}

int cmd_logout(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_free_ char *domain = NULL, *file = NULL;
        const char *authfile = NULL;
        const gk_opt opts[] = {
                { "authfile", 0, GK_OPT_STRING, &authfile, "FILE",
                  "the auth file login wrote (default: as login)" },
                { 0 },
        };
        bool was_there = false, in_docker = false;
        int first;

        if (gk_opts_parse(argc, argv, "logout", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first + 1 < argc)
                return gk_error_make(err, 0, "logout: unexpected argument `%s`", argv[first + 1]);
        if (normalize_domain(first < argc ? argv[first] : NULL, &domain, err) < 0 ||
            gk_auth_primary_file(authfile, &file, err) < 0 ||
            gk_auth_erase_file(file, false, domain, &was_there, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* What an earlier gkimg (or docker login) saved in Docker's file. */
        if (!authfile && gk_auth_erase(domain, &in_docker, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!was_there && !in_docker)
                return gk_error_make(err, 0, "logout: not logged in to %s", domain);
        printf("Removing login credentials for %s\n", domain);
        return 0;
}
