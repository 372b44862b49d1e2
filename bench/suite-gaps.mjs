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
      'At 10,000 records start-up dominates: the worker thread starts, loads logwire (one bundled file: about 31 ms against 20–25 ms for pino-socket), connects, and REGISTER → READY takes a round trip before the first batch. The threaded appender writes lines into a shared ring (no copy per record and no message per batch), but its shipping thread needs as long to start as the whole loop takes at 10,000 records.',
    ].join('\n'),
  },
  {
    goals: /^collector EVENTS|^collector ndjson|^no-parsing sink/,
    title: 'The collector against rsyslog and the no-parsing sink',
    text: [
      "The collector is bound by one core: its main thread reads, checks and writes every record, and its CPU time per 10^6 EVENTS lines (0.35–0.45 s for 205-byte lines) is about its wall time. In a CPU profile of one 10^6-line EVENTS run: the writes into the page cache 67 ms (perf puts the kernel's copy at 26–37 % of all the collector's CPU), the checkpoint journal's two small writes per tick 24 ms, garbage collection 34 ms (old space filling in a freshly started process), frame decoding and dispatch about 20 ms, the output file's identity check 14 ms, the shape and UTF-8 check 14 ms; the main thread is idle about a quarter of the run while the sender waits for ACKs within its 4 MiB window.",
      '',
      'The no-parsing sink reads and counts the same bytes and writes nothing (0.10–0.13 s of CPU per 10^6 lines); the collector writes 205 MB into a file and keeps exactly-once state for it. rsyslog uses 1.7–2.1 s of CPU per 10^6 lines over its threads, four to five times the collector, and runs them in parallel on the two cores. What would close the rest: writing in a thread of its own while the main thread reads (the sender takes the other core here), and reading into reused buffers, which Node does not offer for sockets a server accepts.',
    ].join('\n'),
  },
  {
    goals: /RSS at 1,000/,
    title: 'Collector memory at 1,000 connections',
    text: "Each of the 1,000 raw clients sends its whole share at once, in batches of 500 records (about 65 KB), without waiting for ACKs. A batch's body is gathered whole before the writer takes it, so with 1,000 connections each partway through a batch the collector holds up to one partial body per connection, plus what one turn of the event loop read from every ready socket (Node reads each into a fresh buffer of up to 64 KiB). At the peak: ArrayBuffers 87–128 MiB, V8 heap about 55 MiB, the rest Node itself. `pause_above` does not bound this (8, 16 and 64 MiB gave 209–235 MiB at the peak): it stops reading, but what is held stays held until its batch is whole. With fewer connections it does bound it (100 sources: 201 MiB at 64 MiB, 151 MiB at 16 MiB). Writing a batch's records as they arrive would lift the per-connection cost, at the price of marks that move within a batch.",
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
