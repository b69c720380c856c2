/*
 * inststats: INFO's instantaneous_* figures (operations per second, network
 * kbps). A counter's growth is sampled every 100 ms by the cron into a
 * ring of 16 rates, whose mean is reported: about the last 1.6 seconds,
 * smooth enough to read yet quick to follow a change of load, which is
 * what Redis's instantaneous_ops_per_sec means too.
 */
#ifndef KEEL_INSTSTATS_H
#define KEEL_INSTSTATS_H

enum { INST_OPS, INST_NET_INPUT, INST_NET_OUTPUT, INST_COUNT };

/* From the cron, every tick (does the work at most every 100 ms). */
void inststats_cron(void);
/* The mean rate per second of one counter (INST_*). */
double inststats_rate(int which);

#endif
