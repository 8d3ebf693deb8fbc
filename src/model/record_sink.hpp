// The end of the pipeline: consumers of fully attributed events, alerts and session changes
// (the store, every exporter). The pipeline calls them on its own thread, in order; a sink
// must not block it — slow work goes behind a bounded queue with counted drops.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/action.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/identity.hpp"
#include "model/recording.hpp"

namespace privwatch::model {

// What a sink's queue holds and what it lost (exported as metrics per sink).
struct SinkStats {
  uint64_t queue_depth = 0;     // records waiting now
  uint64_t queue_capacity = 0;  // bound of the queue (0: the sink does not queue)
  uint64_t accepted = 0;        // records queued
  uint64_t delivered = 0;       // records the receiver accepted
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_failed = 0;  // given up after retries, or rejected by the receiver
  uint64_t retries = 0;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual void on_event(const Event& ev) = 0;
  // The same event with its ECS JSON document (exporter::append_ecs_json, host = the event's
  // attributed host, else this host) already rendered by the pipeline for the JSON lines output:
  // a sink that keeps or sends that document takes it instead of rendering it again. The view
  // is valid during the call only.
  virtual void on_rendered_event(const Event& ev, std::string_view /*ecs_json*/) { on_event(ev); }
  virtual void on_alert(const Alert& /*alert*/) {}
  // A session started, changed (new escalation, losses) or ended (end_wall_ns != 0).
  virtual void on_session(const Session& /*session*/) {}
  // A privilege escalation settled (success or failure).
  virtual void on_escalation(const Escalation& /*escalation*/) {}
  // A response action was taken, attempted, refused or (dry run) planned (model/action.hpp).
  virtual void on_action(const ResponseAction& /*action*/) {}
  // A chunk of a session recording (terminal I/O, resizes, gaps, commands), in order per
  // recording; chunk.final marks the last one (docs/recording.md).
  virtual void on_recording_chunk(const RecordingChunk& /*chunk*/) {}
  // Called when the pipeline is idle and at least once a second: push out what is buffered.
  virtual void flush() {}
  // SIGHUP: reopen files, reload what the sink reads from disk.
  virtual void reopen() {}
  // Stop: deliver what is queued (bounded wait), then release resources.
  virtual void close() {}
  // Queue and loss counters; read by the pipeline thread while the sink runs.
  [[nodiscard]] virtual SinkStats stats() const { return {}; }
};

}  // namespace privwatch::model
