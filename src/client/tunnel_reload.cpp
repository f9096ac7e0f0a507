// SPDX-License-Identifier: MIT
// Client::reload_tunnels: SIGHUP's new list of tunnels, compared with the running one; new
// tunnels' sockets opened off the reactor, then published to every core; removed ones let go
// of by every core before their sockets close.
#include <algorithm>

#include "client/client.hpp"
#include "client/client_core.hpp"
#include "observe/log.hpp"
#include "runtime/cross_core.hpp"

namespace ringtunnel::client {
namespace {

using runtime::Task;

// Messages to the other cores: the client in `context`, the forward in `arg`.
const OpenForward& forward_of(const runtime::CoreMessage& message) {
  return *reinterpret_cast<const OpenForward*>(message.arg);
}
void deliver_add(runtime::Reactor& reactor, runtime::CoreMessage& message) {
  if (ClientCore* core = static_cast<Client*>(message.context)->core(reactor.id())) {
    core->add_forward(forward_of(message));
  }
}
void deliver_drop(runtime::Reactor& reactor, runtime::CoreMessage& message) {
  auto* client = static_cast<Client*>(message.context);
  if (ClientCore* core = client->core(reactor.id())) {
    core->drop_forward(forward_of(message));
  } else {
    client->let_go(reactor, forward_of(message));  // this core never held it
  }
}
void deliver_let_go(runtime::Reactor&, runtime::CoreMessage& message) {
  static_cast<Client*>(message.context)->forward_dropped(forward_of(message));
}

// A message to every core about `forward`.
runtime::CoreMessage about(Client* client, runtime::CoreMessage::Handler handler,
                           const OpenForward* forward) {
  runtime::CoreMessage message;
  message.handler = handler;
  message.context = client;
  message.arg = reinterpret_cast<std::uint64_t>(forward);
  return message;
}

bool contains(const std::vector<ForwardSpec>& specs, const ForwardSpec& spec) {
  return std::find(specs.begin(), specs.end(), spec) != specs.end();
}

}  // namespace

void Client::reload_tunnels_on(runtime::Reactor& reactor, ForwardReader read) {
  if (reactor.id() != 0) return;
  ClientCore* core0 = cores_[0].get();
  if (core0 == nullptr || core0->stopping) return;
  if (!ready_) {
    observe::log_warn("SIGHUP: the client is still starting; the tunnels were not re-read");
    return;
  }
  if (reloading_) {
    observe::log_warn("SIGHUP: a reload is still running; this one is ignored");
    return;
  }
  reloading_ = true;
  ++core0->tasks;
  runtime::spawn(reload_tunnels(*core0, std::move(read)));
}

Task<void> Client::reload_tunnels(ClientCore& core0, ForwardReader read) {
  std::vector<ForwardSpec> current;
  for (const auto& forward : forwards_) {
    if (!forward->removing) current.push_back(forward->spec);
  }
  struct Loaded {
    std::optional<std::vector<ForwardSpec>> wanted;
    std::string error;
    std::vector<std::unique_ptr<OpenForward>> opened;
    std::vector<std::string> failures;
  };
  const unsigned cores = listening_cores();
  // The file, a bind name's lookup and the new sockets: all blocking, all off the reactor.
  Loaded loaded = co_await runtime::run_blocking([&] {
    Loaded l;
    l.wanted = read(&l.error);
    if (!l.wanted) return l;
    std::vector<ForwardSpec> seen;
    for (const ForwardSpec& spec : *l.wanted) {
      if (contains(current, spec) || contains(seen, spec)) continue;
      seen.push_back(spec);
      std::string error;
      auto opened = open_forward(spec, cores, &error);
      if (opened) {
        l.opened.push_back(std::move(*opened));
      } else {
        l.failures.push_back(error);
      }
    }
    return l;
  });
  if (!core0.stopping) {
    if (!loaded.wanted) {
      observe::log_error("reload: {}; the tunnels stay as they were", loaded.error);
    } else {
      for (const std::string& failure : loaded.failures) {
        observe::log_warn("reload: {} (not added)", failure);
      }
      std::vector<OpenForward*> removed;
      for (const auto& forward : forwards_) {
        if (!forward->removing && !contains(*loaded.wanted, forward->spec))
          removed.push_back(forward.get());
      }
      for (OpenForward* forward : removed) {
        forward->removing = true;
        forward->cores_holding = reactors_;
        observe::log_info(
            "tunnel {}: removed by the reload; no new connections (open streams "
            "finish, UDP flows end)",
            forward->spec.name());
        runtime::post_to_every_core(core0.reactor, reactors_,
                                    [&] { return about(this, &deliver_drop, forward); });
      }
      std::vector<const OpenForward*> added;
      for (auto& forward : loaded.opened) {
        added.push_back(forward.get());
        forwards_.push_back(std::move(forward));
        runtime::post_to_every_core(core0.reactor, reactors_,
                                    [&] { return about(this, &deliver_add, added.back()); });
      }
      observe::log_info("reload: {} tunnel(s) added, {} removed, {} unchanged", added.size(),
                        removed.size(), current.size() - removed.size());
      co_await check_tunnels(core0, std::move(added));
    }
  }
  reloading_ = false;
  --core0.tasks;
  core0.maybe_stopped();
}

void Client::let_go(runtime::Reactor& here, const OpenForward& forward) {
  runtime::CoreMessage done = about(this, &deliver_let_go, &forward);
  if (here.id() == 0) {
    done.handler(here, done);
  } else {
    here.post(0, std::move(done));
  }
}

void Client::forward_dropped(const OpenForward& forward) {
  auto it = std::find_if(forwards_.begin(), forwards_.end(),
                         [&](const auto& f) { return f.get() == &forward; });
  if (it == forwards_.end() || --(*it)->cores_holding > 0) return;
  forwards_.erase(it);  // every core has let go: its sockets close here
}

}  // namespace ringtunnel::client
