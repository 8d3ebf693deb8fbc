// The end of the pipeline: consumers of fully attributed events, alerts and session changes
// (the store, every exporter). The pipeline calls them on its own thread, in order; a sink
// must not block it — slow work goes behind a bounded queue with counted drops.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/identity.hpp"
#include "model/recording.hpp"

namespace privwatch::model {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual void on_event(const Event& ev) = 0;
  virtual void on_alert(const Alert& /*alert*/) {}
  // A session started, changed (new escalation, losses) or ended (end_wall_ns != 0).
  virtual void on_session(const Session& /*session*/) {}
  // A privilege escalation settled (success or failure).
  virtual void on_escalation(const Escalation& /*escalation*/) {}
  // A chunk of a session recording (terminal I/O, resizes, gaps, commands), in order per
  // recording; chunk.final marks the last one (docs/recording.md).
  virtual void on_recording_chunk(const RecordingChunk& /*chunk*/) {}
  // Called when the pipeline is idle and at least once a second: push out what is buffered.
  virtual void flush() {}
  // SIGHUP: reopen files, reload what the sink reads from disk.
  virtual void reopen() {}
  // Stop: deliver what is queued (bounded wait), then release resources.
  virtual void close() {}
};

}  // namespace privwatch::model
