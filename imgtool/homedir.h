/* The user's home directory, where the containers-*(5) files and Docker's
 * config have their per-user places. */
#ifndef GK_IMGTOOL_HOMEDIR_H
#define GK_IMGTOOL_HOMEDIR_H

/* $HOME when set and not empty, else the password database's entry, else
 * "/" (as containers/image's homedir does).  Never NULL. */
const char *gk_home_dir(void);

#endif
