/**
 * Where the time goes, for each goal the suite finds not met: what the profiles of the current
 * code show (node --cpu-prof, perf, per-thread CPU from /proc), as prose for docs/benchmarks.md.
 * A paragraph is printed only when one of its goals is not met in the run.
 */

export const GAPS = [
  {
    goals: /^transport|^threaded/,
    title: 'The appender against pino-socket',
    text: [
      "Both peers run the same pino code on the app's main thread: serialising each record and handing the line to thread-stream. In a tight loop thread-stream keeps the lines on the main thread until the loop yields, so both workers wait through the loop and the time to delivered is mostly what comes after it, while pino's exit handler waits for the worker (`end` in thread-stream: about 100 ms of the main thread's profile at 100,000 records).",
      '',
      "What comes after differs. pino-socket's worker writes each line to its socket and is done when the kernel has it; it acknowledges nothing, and the table's last column counts the runs in which it lost records at exit. logwire's worker turns thread-stream's strings back into bytes (about 45 ms per 100,000 records, beside thread-stream's own 36 ms of decoding), numbers and frames them into batches, and waits for the collector to write them and save its checkpoint before it may close. On two cores the app, its worker and the collector compete for CPU, so that work shows directly in the wall time.",
      '',
      "At 10,000 and 100,000 records most of a run is what both peers share. Timed inside the app at 10,000 records (six runs, alternating): Node starts and runs the app's first line 65–90 ms after the spawn, loading pino and the transport takes 23–32 ms, and the loop 45–77 ms; what comes after the loop (logwire: the worker's start, connect, REGISTER → READY, the batches and the last ACK) took 12–28 ms for logwire and 12–43 ms for pino-socket. At 100,000 records the loop is 300–400 ms of pino's own work on the main thread (serialising about 140–180 ms, garbage collection 60–85 ms, and the copy of each line into the ring the worker reads, 80–100 ms, which thread-stream makes for pino-socket too). So the shared part is three quarters or more of pino-socket's time, and the threaded goal (≤ 0.8×) would need logwire's part after the loop to take less than nothing; it is met from 500,000 records on, where pino-socket's worker is still writing long after the loop ends.",
    ].join('\n'),
  },
  {
    goals: /^collector EVENTS|^collector ndjson|^no-parsing sink/,
    title: 'The collector against rsyslog and the no-parsing sink',
    text: [
      "The collector is bound by one core: its main thread reads, checks and writes every record, at 0.35–0.55 s of CPU per 10^6 EVENTS lines of 205 bytes. In a CPU profile of a 10^6-line EVENTS run (the 250 ms between its first and last write): the writes into the page cache 38–46 ms, garbage collection 8–13 ms, the shape and UTF-8 check 7–15 ms, reading and decoding the frames about 20 ms, the output file's identity check and the checkpoint journal's writes about 10 ms, and 73 ms idle while the sender waits for ACKs within its 4 MiB window. A larger window does not turn that idle time into throughput: with 16 MiB the sender hardly ever waits, but the collector's CPU per 10^6 lines was 0.51–0.73 s against 0.43–0.65 s with 4 MiB, and its rate 1.6–2.3 M lines/s against 1.8–2.5 M (four alternating pairs of runs).",
      '',
      'The no-parsing sink reads and counts the same bytes and writes nothing (0.10–0.13 s of CPU per 10^6 lines); the collector writes 205 MB into a file and keeps exactly-once state for it. rsyslog uses 1.7–2.1 s of CPU per 10^6 lines over its threads, four to five times the collector, and runs them in parallel on the two cores. What would close the rest: writing in a thread of its own while the main thread reads (the sender takes the other core here), and reading into reused buffers, which Node does not offer for sockets a server accepts.',
    ].join('\n'),
  },
  {
    goals: /RSS at 1,000/,
    title: 'Collector memory at 1,000 connections',
    text: "Each of the 1,000 raw clients sends its whole share at once, in batches of 500 records (about 65 KB), without waiting for ACKs and without heeding PAUSE, as a broken or hostile client may. The collector reads from every ready socket in the same turn of the event loop (Node reads each into a fresh buffer of up to 64 KiB), copies each body that spans reads into pooled memory, and queues whole batches for the writer. At the peak, with the default `pause_above` (64 MiB): the writer's backlog 79–106 MiB (past the limit, so PAUSE went out; every link is held only past twice the limit), ArrayBuffers 38–115 MiB, V8 heap 53 MiB, and 71 MiB that the collector takes before its first connection (43 MiB of it the node binary's own mapped pages). A lower `pause_above` does not lower the peak (16 MiB: 203–219 MiB): the held budget then stops up to 590 links partway through a batch, and each stopped socket still holds the one read Node made for it after it was paused. Writing a batch's records as they arrive, or reading into buffers the collector owns, would lift the per-connection cost; Node offers the second only for sockets it connects, not for those a server accepts.",
  },
  {
    goals: /^records\/s, 1,000 sources/,
    title: 'Throughput at 1,000 sources',
    text: "With one file per source, 1,000 sources create 1,000 files: on this machine's file system each creation costs 0.55–0.73 ms of kernel CPU (14 µs on /dev/shm), which the run with 1,000 files pays and the run with one file does not. With one file for all, each session's READY, its ACKs and its reads cost about 0.4 ms of collector CPU per session, which the smaller shares of records per source cannot spread.",
  },
  {
    goals: /^p99 latency/,
    title: 'Latency',
    text: "From log.info to the line in the file a record crosses the app's thread, the worker's batching, the socket, the collector's tick and the write. On a quiet machine each stage takes well under a millisecond; the slowest 1 % come from processes waiting for a CPU (measured with /proc/self/schedstat: about 95 % of each long gap), which the tail process's own lateness column shows.",
  },
];

/** The Markdown section for the goals not met in this run (empty when all are met). */
export function gapSection(goals) {
  const missed = goals.filter((g) => g.met === false);
  const paragraphs = GAPS.filter((gap) => missed.some((g) => gap.goals.test(g.name)));
  if (paragraphs.length === 0) return [];
  return [
    '## Where the time goes (goals not met)',
    '',
    ...paragraphs.flatMap((gap) => [`### ${gap.title}`, '', gap.text, '']),
  ];
}
