/* Probes of gk-probe that live in files of their own (see probe.c). */
#ifndef GK_PROBE_H
#define GK_PROBE_H

/* observe.c: the container's whole view as one JSON document. */
int p_observe(int argc, char **argv);

#endif
