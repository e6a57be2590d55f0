//! The seed how-to, "How to Roll Out and Roll Back Changes in Stage", replayed in simulated time.
//!
//! ```text
//! cargo run --example walkthrough            # what a person following the how-to would see
//! cargo run --example walkthrough -- --json  # the transcript: {"events": [...], "members": {...}}
//! ```
//!
//! The how-to was written for an older KubeFleet, so the engine runs with
//! [`Config::seed_compatible`](staged_rollout::Config::seed_compatible) and the simulated hub
//! snapshots the placements' resources whenever they change, as that KubeFleet did. The two halves
//! of the how-to are the scenario files `examples/scenarios/seed-cluster.yaml` and
//! `examples/scenarios/seed-namespaced.yaml`, replayed one after the other on one fleet.

use std::process::ExitCode;

use staged_rollout::api::Time;
use staged_rollout::sim::{Event, EventKind, Scenario, SimError, Simulation};

const CLUSTER: &str = include_str!("scenarios/seed-cluster.yaml");
const NAMESPACED: &str = include_str!("scenarios/seed-namespaced.yaml");
const NS: &str = "my-app-namespace";

fn main() -> ExitCode {
    let json = std::env::args().any(|a| a == "--json");
    let timing = std::env::args().any(|a| a == "--timing");
    let started = std::time::Instant::now();
    let mut walk = Walk { sim: None, json, shown: 0, searched: 0, gap: false };
    let result = walk.replay();
    if timing {
        eprintln!("simulated in {:?}", started.elapsed());
    }
    match result {
        Ok(()) => {
            if json {
                println!("{}", walk.sim().transcript().to_json());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("walkthrough: {e}");
            ExitCode::FAILURE
        }
    }
}

fn scenario(yaml: &str) -> Scenario {
    serde_saphyr::from_str(yaml).expect("the seed scenarios parse")
}

struct Walk {
    sim: Option<Simulation>,
    json: bool,
    /// How many transcript events were narrated.
    shown: usize,
    /// How many transcript events were searched by `until_event`.
    searched: usize,
    /// A table was printed last: the next text starts after a blank line.
    gap: bool,
}

impl Walk {
    fn sim(&mut self) -> &mut Simulation {
        self.sim.as_mut().expect("started")
    }

    fn say(&mut self, text: &str) {
        if self.json {
            return;
        }
        if std::mem::take(&mut self.gap) && !text.starts_with('\n') {
            println!();
        }
        println!("{text}");
    }

    /// `$ kubectl command` at the current simulated time, then its output.
    fn kubectl(&mut self, command: &str, output: String) {
        let now = self.sim().now();
        self.say(&format!("\n[{}] $ kubectl {command}\n{}", clock(now), output.trim_end()));
        self.gap = true;
    }

    /// Narrates what happened since the last narration, one line per interesting event.
    fn narrate(&mut self) {
        let shown = self.shown;
        let events: Vec<Event> = self.sim().events()[shown..].to_vec();
        self.shown += events.len();
        for e in events {
            if let Some(line) = describe(&e) {
                self.say(&format!("  {}  {line}", clock(e.at)));
            }
        }
    }

    /// Runs until an event matching `pred` that was not searched for before, then lets everything
    /// else due at that instant happen too.
    fn until_event(&mut self, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Result<Event, SimError> {
        loop {
            let from = self.searched;
            let found = self.sim().events()[from..].iter().position(&mut pred);
            if let Some(i) = found {
                self.searched = from + i + 1;
                let event = self.sim().events()[from + i].clone();
                self.sim().run_until(event.at)?;
                return Ok(event);
            }
            self.searched = self.sim().events().len();
            if !self.sim().step()? {
                panic!("the how-to never reached: {what}");
            }
        }
    }

    fn until(&mut self, t: Time) -> Result<(), SimError> {
        self.sim().run_until(t)
    }

    fn replay(&mut self) -> Result<(), SimError> {
        let cluster = scenario(CLUSTER);
        self.say(
            "Replaying the seed how-to \"How to Roll Out and Roll Back Changes in Stage\" in simulated time.\n\
             The how-to was written for an older KubeFleet, so this uses the engine's seed-compatibility preset,\n\
             Config::seed_compatible(): runs without spec.state start when created, after-stage approval requests\n\
             are named <run>-<stage>, an approval without observedGeneration counts, and stage names may contain\n\
             '-'. As that KubeFleet did, the hub snapshots a placement's resources whenever they change.\n\
             Member agents take 15s to apply; whoever watches the approval requests approves each 2m after it appears.",
        );
        self.sim = Some(Simulation::from_scenario(&cluster)?);
        self.cluster_scoped()?;
        // The namespaced half starts on the same fleet a little later.
        let next = Time::from_unix_seconds(self.sim().now().unix_seconds().div_euclid(600) * 600 + 600);
        self.until(next)?;
        self.narrate();
        self.sim().load(&scenario(NAMESPACED))?;
        self.namespace_scoped()?;
        self.sim().run()?;
        self.narrate();
        self.holdings();
        Ok(())
    }

    fn cluster_scoped(&mut self) -> Result<(), SimError> {
        self.say("\n== Cluster-scoped staged updates ==\n\nThe fleet, the demo namespace and configmap, and the ClusterResourcePlacement:");
        let start = self.sim().now();
        self.until(start.add_ceil(staged_rollout::api::Duration::from_secs(8)))?;
        self.narrate();
        let crp = self.sim().kubectl().get_placements(None, Some("example-placement")).to_string();
        self.kubectl("get crp example-placement", crp);
        let snapshots = self.sim().kubectl().get_resource_snapshots(None, true).to_string();
        self.kubectl("get clusterresourcesnapshots --show-labels", snapshots);

        self.until_event("test-cm edited", |e| e.event == EventKind::ResourceUpdated)?;
        self.say("\nkubectl edit cm test-cm -n test-namespace   # key: value1 -> value2");
        self.narrate();
        let snapshots = self.sim().kubectl().get_resource_snapshots(None, true).to_string();
        self.kubectl("get clusterresourcesnapshots --show-labels", snapshots);
        let content = self.snapshot_content("", "example-placement-1-snapshot");
        self.say(&format!("example-placement-1-snapshot selects: {content}"));

        self.say("\nThe ClusterStagedUpdateStrategy example-strategy, then the ClusterStagedUpdateRun example-run (resourceSnapshotIndex \"1\"):");
        let created = self.until_event("example-run created", |e| is(e, EventKind::RunCreated, "example-run"))?;
        self.narrate();
        self.until(created.at.add_ceil(staged_rollout::api::Duration::from_secs(44)))?;
        self.narrate();
        let csur = self.sim().kubectl().get_update_runs(None, Some("example-run")).to_string();
        self.kubectl("get csur example-run", csur);

        self.approve(None, "example-run")?;
        self.until_event("example-run succeeded", |e| is(e, EventKind::RunSucceeded, "example-run"))?;
        self.narrate();
        let csur = self.sim().kubectl().get_update_runs(None, Some("example-run")).to_string();
        self.kubectl("get csur example-run", csur);
        let crp = self.sim().kubectl().get_placements(None, Some("example-placement")).to_string();
        self.kubectl("get crp example-placement", crp);
        self.configmaps();

        self.say(
            "\nRoll back: the ClusterStagedUpdateRun example-run-2 with resourceSnapshotIndex \"0\", same strategy:",
        );
        self.approve(None, "example-run-2")?;
        self.until_event("example-run-2 succeeded", |e| is(e, EventKind::RunSucceeded, "example-run-2"))?;
        self.narrate();
        let csur = self.sim().kubectl().get_update_runs(None, Some("example-run-2")).to_string();
        self.kubectl("get csur example-run-2", csur);
        self.configmaps();
        Ok(())
    }

    fn namespace_scoped(&mut self) -> Result<(), SimError> {
        self.say("\n== Namespace-scoped staged updates ==\n\nmy-app-namespace with the web-app Deployment (nginx:1.20) and Service, and the ResourcePlacement:");
        let start = self.sim().now();
        self.until(start.add_ceil(staged_rollout::api::Duration::from_secs(63)))?;
        self.narrate();
        let snapshots = self.sim().kubectl().get_resource_snapshots(Some(NS), true).to_string();
        self.kubectl("get resourcesnapshots -n my-app-namespace --show-labels", snapshots);

        self.until_event("image set", |e| e.event == EventKind::ResourceUpdated)?;
        self.say("\nkubectl set image deployment/web-app web-app=nginx:1.21 -n my-app-namespace");
        self.narrate();
        let snapshots = self.sim().kubectl().get_resource_snapshots(Some(NS), true).to_string();
        self.kubectl("get resourcesnapshots -n my-app-namespace --show-labels", snapshots);

        self.say("\nThe StagedUpdateStrategy app-rollout-strategy, then the StagedUpdateRun web-app-rollout-v1-21 (resourceSnapshotIndex \"1\"):");
        let created = self.until_event("rollout created", |e| is(e, EventKind::RunCreated, "web-app-rollout-v1-21"))?;
        self.narrate();
        self.until(created.at.add_ceil(staged_rollout::api::Duration::from_secs(20)))?;
        self.narrate();
        let sur = self.sim().kubectl().get_update_runs(Some(NS), Some("web-app-rollout-v1-21")).to_string();
        self.kubectl("get sur web-app-rollout-v1-21 -n my-app-namespace", sur);

        self.approve(Some(NS), "web-app-rollout-v1-21")?;
        self.until_event("rollout succeeded", |e| is(e, EventKind::RunSucceeded, "web-app-rollout-v1-21"))?;
        self.narrate();
        let sur = self.sim().kubectl().get_update_runs(Some(NS), Some("web-app-rollout-v1-21")).to_string();
        self.kubectl("get sur web-app-rollout-v1-21 -n my-app-namespace", sur);
        let rp = self.sim().kubectl().get_placements(Some(NS), Some("web-app-placement")).to_string();
        self.kubectl("get resourceplacement web-app-placement -n my-app-namespace", rp);
        self.images();

        self.say("\nRoll back: the StagedUpdateRun web-app-rollback-v1-20 with resourceSnapshotIndex \"0\":");
        self.approve(Some(NS), "web-app-rollback-v1-20")?;
        self.until_event("rollback succeeded", |e| is(e, EventKind::RunSucceeded, "web-app-rollback-v1-20"))?;
        self.narrate();
        let sur = self.sim().kubectl().get_update_runs(Some(NS), Some("web-app-rollback-v1-20")).to_string();
        self.kubectl("get sur web-app-rollback-v1-20 -n my-app-namespace", sur);
        self.images();
        Ok(())
    }

    /// Waits for `run`'s approval request, shows it, shows it being approved as the how-to
    /// approves it, and shows it approved and accepted.
    fn approve(&mut self, namespace: Option<&str>, run: &str) -> Result<(), SimError> {
        let (kind, get) = match namespace {
            None => ("clusterapprovalrequests", "get clusterapprovalrequest".to_owned()),
            Some(ns) => ("approvalrequests", format!("get approvalrequests -n {ns}")),
        };
        let requested = self.until_event("approval requested", |e| is(e, EventKind::ApprovalRequested, run))?;
        self.narrate();
        let table = self.sim().kubectl().get_approval_requests(namespace).to_string();
        self.kubectl(&get, table);
        let granted = self.until_event("approval granted", |e| is(e, EventKind::ApprovalGranted, run))?;
        let name = requested.approval_request.unwrap_or_default();
        let patch = match namespace {
            None => format!(
                "patch {kind} {name} --type=merge --subresource=status -p '{{\"status\":{{\"conditions\":[{{\"type\":\"Approved\",\
                 \"status\":\"True\",\"reason\":\"lgtm\",\"message\":\"lgtm\",\"lastTransitionTime\":\"{}\",\"observedGeneration\":1}}]}}}}'",
                granted.at
            ),
            Some(ns) => format!(
                "patch {kind} {name} -n {ns} --type=merge --subresource=status -p '{{\"status\":{{\"conditions\":\
                 [{{\"type\":\"Approved\",\"status\":\"True\",\"reason\":\"approved\",\"message\":\"approved\"}}]}}}}'"
            ),
        };
        self.kubectl(&patch, format!("{}.placement.kubernetes-fleet.io/{name} patched", kind.trim_end_matches('s')));
        self.narrate();
        let table = self.sim().kubectl().get_approval_requests(namespace).to_string();
        self.kubectl(&get, table);
        Ok(())
    }

    fn snapshot_content(&mut self, namespace: &str, name: &str) -> String {
        let snapshot = self
            .sim()
            .hub()
            .resource_snapshots()
            .find(|s| s.metadata.namespace() == namespace && s.metadata.name() == name)
            .expect("the snapshot exists");
        snapshot.spec.selected_resources.iter().map(summary).collect::<Vec<_>>().join(", ")
    }

    fn configmaps(&mut self) {
        let mut lines = vec!["test-cm on the member clusters:".to_owned()];
        for member in ["member1", "member2", "member3"] {
            let objects = self.sim().member_objects(member);
            let cm = objects.iter().find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "test-cm");
            let data = cm.map(|o| format!("data: key: {}", o["data"]["key"].as_str().unwrap_or("?")));
            lines.push(format!("  {member}: {}", data.unwrap_or_else(|| "(none)".to_owned())));
        }
        self.say(&lines.join("\n"));
    }

    fn images(&mut self) {
        let mut lines = vec!["web-app on the member clusters:".to_owned()];
        for member in ["member1", "member2", "member3"] {
            let objects = self.sim().member_objects(member);
            let image = objects
                .iter()
                .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "web-app")
                .and_then(|d| d.pointer("/spec/template/spec/containers/0/image"))
                .and_then(|i| i.as_str())
                .unwrap_or("(none)")
                .to_owned();
            lines.push(format!("  {member}: {image}"));
        }
        self.say(&lines.join("\n"));
    }

    fn holdings(&mut self) {
        let transcript = self.sim().transcript();
        let mut lines = vec!["\n== What each member cluster holds at the end ==".to_owned()];
        for (member, objects) in &transcript.members {
            lines.push(format!("{member}:"));
            for o in objects {
                lines.push(format!("  {}", summary(o)));
            }
        }
        lines.push(
            "(The ResourcePlacement selects only the Deployment and the Service, so the namespaced\n\
             half places no Namespace object; on a real fleet my-app-namespace must already exist.)"
                .to_owned(),
        );
        self.say(&lines.join("\n"));
    }
}

fn is(e: &Event, kind: EventKind, run: &str) -> bool {
    e.event == kind && e.run.as_deref() == Some(run)
}

/// `10:11:15`
fn clock(t: Time) -> String {
    t.to_string().get(11..19).unwrap_or_default().to_owned()
}

/// `ConfigMap test-namespace/test-cm (key: value2)`
fn summary(o: &serde_json::Value) -> String {
    let kind = o["kind"].as_str().unwrap_or("?");
    let name = o["metadata"]["name"].as_str().unwrap_or("?");
    let ns = o["metadata"]["namespace"].as_str().map(|n| format!("{n}/")).unwrap_or_default();
    let detail = match kind {
        "ConfigMap" => o["data"].as_object().map(|d| {
            d.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("?"))).collect::<Vec<_>>().join(", ")
        }),
        "Deployment" => o.pointer("/spec/template/spec/containers/0/image").and_then(|i| i.as_str()).map(str::to_owned),
        "Service" => o.pointer("/spec/ports/0/port").map(|p| format!("port {p}")),
        _ => None,
    };
    match detail {
        Some(d) => format!("{kind} {ns}{name} ({d})"),
        None => format!("{kind} {ns}{name}"),
    }
}

/// One narration line for the events worth narrating.
fn describe(e: &Event) -> Option<String> {
    let run = e.run.as_deref().unwrap_or("");
    let stage = e.stage.as_deref().unwrap_or("");
    let cluster = e.cluster.as_deref().unwrap_or("");
    let snapshot = e.snapshot.as_deref().unwrap_or("");
    let request = e.approval_request.as_deref().unwrap_or("");
    Some(match e.event {
        EventKind::ClusterJoined => format!("{cluster} joined the fleet ({})", e.detail.as_deref().unwrap_or("")),
        EventKind::ResourceCreated | EventKind::ResourceUpdated => {
            let verb = if e.event == EventKind::ResourceCreated { "created" } else { "changed" };
            format!("hub: {} {verb}", e.detail.as_deref().unwrap_or(""))
        }
        EventKind::PlacementCreated => format!("hub: placement {} created", e.detail.as_deref().unwrap_or("")),
        EventKind::BindingScheduled => format!("scheduler: {cluster} picked"),
        EventKind::SnapshotCreated => format!("hub: resource snapshot {snapshot} taken"),
        EventKind::StrategyApplied => format!("hub: strategy {} created", e.detail.as_deref().unwrap_or("")),
        EventKind::RunCreated => format!("{run}: created"),
        EventKind::RunInitialized => format!("{run}: initialized, rolling out {snapshot}"),
        EventKind::StageStarted => format!("{run}: stage {stage} started"),
        EventKind::BindingUpdated => format!("{run}: {cluster} bound to {snapshot}"),
        EventKind::MemberApplied => format!("{cluster}: applied {snapshot}, available"),
        EventKind::ClusterSucceeded => format!("{run}: {cluster} updated"),
        EventKind::WaitElapsed => format!("{run}: stage {stage}'s TimedWait elapsed"),
        EventKind::StageSucceeded if stage.starts_with("kubernetes-fleet.io/") => format!("{run}: nothing to delete"),
        EventKind::StageSucceeded => format!("{run}: stage {stage} succeeded"),
        EventKind::ApprovalRequested => format!("{run}: waiting for approval request {request}"),
        EventKind::ApprovalAccepted => format!("{run}: approval {request} accepted"),
        EventKind::RunSucceeded => format!("{run}: succeeded"),
        EventKind::RunFailed => format!("{run}: failed: {}", e.detail.as_deref().unwrap_or("")),
        _ => return None,
    })
}
