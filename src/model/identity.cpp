#include "model/identity.hpp"

#include "model/alert.hpp"

namespace privwatch::model {

std::string_view to_string(EntryType t) {
  switch (t) {
    case EntryType::kUnknown:
      return "unknown";
    case EntryType::kSsh:
      return "sshd";
    case EntryType::kConsole:
      return "console";
    case EntryType::kTerminal:
      return "terminal";
    case EntryType::kContainer:
      return "container";
    case EntryType::kCron:
      return "cron";
    case EntryType::kSystemd:
      return "service";
    case EntryType::kSu:
      return "su";
    case EntryType::kSudo:
      return "sudo";
    case EntryType::kInit:
      return "init";
  }
  return "unknown";
}

std::string_view to_string(EscalationMethod m) {
  switch (m) {
    case EscalationMethod::kUnknown:
      return "unknown";
    case EscalationMethod::kSudo:
      return "sudo";
    case EscalationMethod::kSu:
      return "su";
    case EscalationMethod::kPkexec:
      return "pkexec";
    case EscalationMethod::kDoas:
      return "doas";
    case EscalationMethod::kSetuidBinary:
      return "setuid_binary";
    case EscalationMethod::kSetuidCall:
      return "setuid_call";
    case EscalationMethod::kCapset:
      return "capset";
  }
  return "unknown";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

}  // namespace privwatch::model
