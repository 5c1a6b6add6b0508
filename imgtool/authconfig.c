/* Credentials in Docker's config file and its credential helpers: read for
 * pulls, written by login/logout (see auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth.h"
#include "homedir.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "json_tree.h"
#include "reference.h"

#define HUB_KEY "https://index.docker.io/v1/"

extern char **environ;

const char *gk_auth_config_key(const char *domain)
{
        return strcmp(domain, GK_DOCKER_DOMAIN) ? domain : HUB_KEY;
}

static int config_path(char **out, gk_error **err)
{
        const char *dir = getenv("DOCKER_CONFIG");
        int n;

        if (dir && *dir)
                n = asprintf(out, "%s/config.json", dir);
        else
                n = asprintf(out, "%s/.docker/config.json", gk_home_dir());
        return n < 0 ? gk_error_make(err, ENOMEM, "docker config") : 0;
}

/* The config's tree, NULL (and 0) when there is no file. */
static int load_config(const char *path, yajl_val *out, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        *out = NULL;
        r = gk_read_file(path, &text, &len, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return gk_error_make(err, -r, "read `%s`", path);
        if (gk_json_parse(text, len, path, out, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!YAJL_IS_OBJECT(*out)) {
                gk_json_freep(out);
                return gk_error_make(err, 0, "`%s`: must be a JSON object", path);
        }
        return 0;
}

/* "https://host/v1/" -> "host"; "host" stays. */
static bool key_matches(const char *key, const char *domain)
{
        const char *k = key;
        size_t n;

        if (!strncmp(k, "https://", 8))
                k += 8;
        else if (!strncmp(k, "http://", 7))
                k += 7;
        n = strcspn(k, "/");
        if (!strcmp(domain, GK_DOCKER_DOMAIN))
                return (n == 15 && !strncmp(k, "index.docker.io", 15)) ||
                       (n == 9 && !strncmp(k, "docker.io", 9)) ||
                       (n == 20 && !strncmp(k, "registry-1.docker.io", 20));
        return strlen(domain) == n && !strncmp(k, domain, n);
}

/* Runs docker-credential-HELPER VERB with INPUT on stdin; *output gets
 * stdout.  *status is its exit status. */
static int run_helper(const char *helper, const char *verb, const char *input, char **output,
                      int *status, gk_error **err)
{
        _cleanup_free_ char *prog = NULL;
        posix_spawn_file_actions_t fa;
        int in[2] = { -1, -1 }, out[2] = { -1, -1 };
        pid_t pid;
        int r, ws;

        if (asprintf(&prog, "docker-credential-%s", helper) < 0)
                return gk_error_make(err, ENOMEM, "credential helper");
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
                r = gk_error_errno(err, "credential helper `%s`", prog);
                goto out;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        r = posix_spawnp(&pid, prog, &fa, NULL, (char *[]){ prog, (char *) verb, NULL }, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        in[0] = out[1] = -1;
        if (r != 0) {
                r = gk_error_make(err, r, "credential helper `%s`", prog);
                goto out;
        }
        /* Inputs are one line: a pipe buffer holds them, no deadlock. */
        signal(SIGPIPE, SIG_IGN);
        gk_write_all(in[1], input, strlen(input));
        close(in[1]);
        in[1] = -1;
        r = gk_read_fd(out[0], prog, output, NULL, err);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
out:
        for (int i = 0; i < 2; i++) {
                gk_closep(&in[i]);
                gk_closep(&out[i]);
        }
        return r;
}

static int helper_get(const char *helper, const char *domain, gk_credentials *c, bool *found,
                      gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        _cleanup_free_ char *output = NULL;
        const char *user, *secret;
        int status = 0;

        if (run_helper(helper, "get", gk_auth_config_key(domain), &output, &status, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (status != 0) {
                /* The helpers' protocol: this text means "none stored". */
                if (output && strstr(output, "credentials not found"))
                        return 0;
                return gk_error_make(err, 0,
                                     "credential helper docker-credential-%s get: exit "
                                     "status %d: %.200s",
                                     helper, status, output ? output : "");
        }
        if (gk_json_parse(output, strlen(output), "credential helper answer", &v, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        user = gk_json_get_str(v, "Username");
        secret = gk_json_get_str(v, "Secret");
        if (!user || !secret)
                return gk_error_make(err, 0,
                                     "credential helper docker-credential-%s: Username "
                                     "and Secret wanted",
                                     helper);
        if (!strcmp(user, "<token>"))
                c->identity_token = strdup(secret);
        else
                c->password = strdup(secret);
        c->username = strdup(user);
        *found = true;
        return c->username ? 0 : gk_error_make(err, ENOMEM, "credentials");
}

static int from_auths_entry(yajl_val e, const char *path, gk_credentials *c, bool *found,
                            gk_error **err)
{
        const char *auth = gk_json_get_str(e, "auth"), *tok = gk_json_get_str(e, "identitytoken");
        _cleanup_free_ char *plain = NULL;
        size_t len = 0;
        char *colon;

        if (tok && *tok) {
                c->identity_token = strdup(tok);
                c->username = strdup(gk_json_get_str(e, "username") ?: "<token>");
                *found = true;
                return c->identity_token && c->username
                               ? 0
                               : gk_error_make(err, ENOMEM, "credentials");
        }
        if (!auth || !*auth)
                return 0;
        if (gk_base64_decode(auth, &plain, &len) < 0 || !(colon = memchr(plain, ':', len)))
                return gk_error_make(err, 0,
                                     "`%s`: auths: `auth` must be base64 of "
                                     "USER:PASSWORD",
                                     path);
        *colon = '\0';
        c->username = strdup(plain);
        c->password = strdup(colon + 1);
        explicit_bzero(plain, len);
        *found = true;
        return c->username && c->password ? 0 : gk_error_make(err, ENOMEM, "credentials");
}

static const char *helper_for(yajl_val config, const char *domain)
{
        yajl_val helpers = gk_json_get(config, "credHelpers");

        for (size_t i = 0; helpers && YAJL_IS_OBJECT(helpers) && i < helpers->u.object.len; i++)
                if (key_matches(helpers->u.object.keys[i], domain) &&
                    YAJL_IS_STRING(helpers->u.object.values[i]))
                        return YAJL_GET_STRING(helpers->u.object.values[i]);
        return gk_json_get_str(config, "credsStore");
}

/* containers-auth.json(5): a key may name a repository or a namespace of
 * DOMAIN; the longest one that prefixes REPO wins, then the domain. */
static yajl_val namespaced_entry(yajl_val auths, const char *domain, const char *repo)
{
        _cleanup_free_ char *key = NULL;

        if (!repo || !*repo || asprintf(&key, "%s/%s", domain, repo) < 0)
                return NULL;
        for (;;) {
                yajl_val e = gk_json_get(auths, key);
                char *slash;

                if (e)
                        return e;
                if (!(slash = strrchr(key, '/')))
                        return NULL;
                *slash = '\0';
        }
}

int gk_auth_lookup_file(const char *path, const char *domain, const char *repo,
                        gk_credentials *out, bool *found, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        const char *helper;
        yajl_val auths, e;

        *out = (gk_credentials){ 0 };
        *found = false;
        if (load_config(path, &config, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!config)
                return 0;
        helper = helper_for(config, domain);
        if (helper && *helper) {
                if (helper_get(helper, domain, out, found, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (*found)
                        return 0;
        }
        auths = gk_json_get(config, "auths");
        if (auths && YAJL_IS_OBJECT(auths) && (e = namespaced_entry(auths, domain, repo)))
                return from_auths_entry(e, path, out, found, err);
        for (size_t i = 0; auths && YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++)
                if (key_matches(auths->u.object.keys[i], domain))
                        return from_auths_entry(auths->u.object.values[i], path, out, found, err);
        return 0;
}

int gk_auth_lookup(const char *domain, gk_credentials *out, bool *found, gk_error **err)
{
        _cleanup_free_ char *path = NULL;

        *out = (gk_credentials){ 0 };
        *found = false;
        if (config_path(&path, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_auth_lookup_file(path, domain, NULL, out, found, err);
}

/* Writes CONFIG back with `auths` replaced by what EDIT leaves: the entry
 * for DOMAIN dropped, and a new one {"auth": AUTH} when AUTH is set. */
static int write_config(const char *path, yajl_val config, const char *domain, const char *auth,
                        bool docker, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_free_ char *text = NULL, *dir = strdup(path);
        yajl_val auths = gk_json_get(config, "auths");
        size_t len = 0;

        if (!g || !dir)
                return gk_error_make(err, ENOMEM, "docker config");
        yajl_gen_map_open(g);
        for (size_t i = 0; config && i < config->u.object.len; i++) {
                if (!strcmp(config->u.object.keys[i], "auths"))
                        continue;
                gk_json_str(g, config->u.object.keys[i]);
                gk_json_gen_tree(g, config->u.object.values[i]);
        }
        gk_json_str(g, "auths");
        yajl_gen_map_open(g);
        for (size_t i = 0; auths && YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++) {
                if (key_matches(auths->u.object.keys[i], domain))
                        continue;
                gk_json_str(g, auths->u.object.keys[i]);
                gk_json_gen_tree(g, auths->u.object.values[i]);
        }
        if (auth) {
                gk_json_str(g, docker ? gk_auth_config_key(domain) : domain);
                yajl_gen_map_open(g);
                gk_json_kstr(g, "auth", auth);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, &text, &len, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        *strrchr(dir, '/') = '\0';
        if (gk_mkdir_p(dir, 0700, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_write_file_atomic(path, text, len, 0600, true, err);
}

int gk_auth_save(const char *domain, const char *username, const char *password, gk_error **err)
{
        _cleanup_free_ char *path = NULL;

        if (config_path(&path, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_auth_save_file(path, true, domain, username, password, err);
}

int gk_auth_save_file(const char *path, bool docker, const char *domain, const char *username,
                      const char *password, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        _cleanup_free_ char *pair = NULL, *auth = NULL, *output = NULL;
        const char *helper;
        int status = 0;

        if (load_config(path, &config, err) < 0)
                return gk_error_code_or(err, -EIO);
        helper = config ? helper_for(config, domain) : NULL;
        if (helper && *helper) {
                _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
                _cleanup_free_ char *input = NULL;

                if (!g)
                        return gk_error_make(err, ENOMEM, "login");
                yajl_gen_map_open(g);
                gk_json_kstr(g, "ServerURL", gk_auth_config_key(domain));
                gk_json_kstr(g, "Username", username);
                gk_json_kstr(g, "Secret", password);
                yajl_gen_map_close(g);
                if (gk_json_gen_finish(g, &input, NULL, err) < 0 ||
                    run_helper(helper, "store", input, &output, &status, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (status != 0)
                        return gk_error_make(err, 0,
                                             "credential helper docker-credential-%s "
                                             "store: exit status %d: %.200s",
                                             helper, status, output ? output : "");
                return 0;
        }
        if (asprintf(&pair, "%s:%s", username, password) < 0 ||
            !(auth = gk_base64_encode(pair, strlen(pair))))
                return gk_error_make(err, ENOMEM, "login");
        explicit_bzero(pair, strlen(pair));
        return write_config(path, config, domain, auth, docker, err);
}

int gk_auth_erase(const char *domain, bool *was_there, gk_error **err)
{
        _cleanup_free_ char *path = NULL;

        *was_there = false;
        if (config_path(&path, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_auth_erase_file(path, true, domain, was_there, err);
}

int gk_auth_erase_file(const char *path, bool docker, const char *domain, bool *was_there,
                       gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        _cleanup_free_ char *output = NULL;
        const char *helper;
        yajl_val auths;
        int status = 0;

        *was_there = false;
        if (load_config(path, &config, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!config)
                return 0;
        helper = helper_for(config, domain);
        if (helper && *helper) {
                if (run_helper(helper, "erase", gk_auth_config_key(domain), &output, &status,
                               err) < 0)
                        return gk_error_code_or(err, -EIO);
                *was_there = status == 0;
        }
        auths = gk_json_get(config, "auths");
        for (size_t i = 0; auths && YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++)
                if (key_matches(auths->u.object.keys[i], domain))
                        *was_there = true;
        return write_config(path, config, domain, NULL, docker, err);
}
