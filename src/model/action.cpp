#include "model/action.hpp"

namespace privwatch::model {

std::string_view to_string(ActionType a) {
  switch (a) {
    case ActionType::kWarn:
      return "warn";
    case ActionType::kFreeze:
      return "freeze";
    case ActionType::kThaw:
      return "thaw";
    case ActionType::kTerminate:
      return "terminate";
    case ActionType::kKill:
      return "kill";
  }
  return "unknown";
}

bool parse_action_type(std::string_view name, ActionType& out) {
  for (ActionType a : {ActionType::kWarn, ActionType::kFreeze, ActionType::kThaw,
                       ActionType::kTerminate, ActionType::kKill}) {
    if (to_string(a) == name) {
      out = a;
      return true;
    }
  }
  return false;
}

std::string_view to_string(ActionOrigin o) {
  switch (o) {
    case ActionOrigin::kOperator:
      return "operator";
    case ActionOrigin::kRule:
      return "rule";
    case ActionOrigin::kKernel:
      return "kernel";
  }
  return "unknown";
}

std::string_view to_string(ActionResult r) {
  switch (r) {
    case ActionResult::kSuccess:
      return "success";
    case ActionResult::kPartial:
      return "partial";
    case ActionResult::kFailed:
      return "failed";
    case ActionResult::kRefused:
      return "refused";
    case ActionResult::kDryRun:
      return "dry_run";
  }
  return "unknown";
}

bool parse_action_origin(std::string_view name, ActionOrigin& out) {
  for (ActionOrigin o : {ActionOrigin::kOperator, ActionOrigin::kRule, ActionOrigin::kKernel}) {
    if (to_string(o) == name) {
      out = o;
      return true;
    }
  }
  return false;
}

bool parse_action_result(std::string_view name, ActionResult& out) {
  for (ActionResult r : {ActionResult::kSuccess, ActionResult::kPartial, ActionResult::kFailed,
                         ActionResult::kRefused, ActionResult::kDryRun}) {
    if (to_string(r) == name) {
      out = r;
      return true;
    }
  }
  return false;
}

}  // namespace privwatch::model
