// The Python `kubernetes` client (Debian's python3-kubernetes) against a real Gatehouse API
// server: typed CoreV1Api bodies, which carry no apiVersion or kind, Event field selectors, the
// dynamic client's server-side apply, pages and patches, and watch.Watch().stream with resume.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './support/apiserver.ts';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** Runs a Python script with `args`; resolves with its stdout. */
function python(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${PYTHON} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const TYPED = `
import json, sys
from kubernetes import client, config

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
meta = client.V1ObjectMeta
namespace = v1.create_namespace(client.V1Namespace(metadata=meta(name="typed")))
config_map = v1.create_namespaced_config_map("typed", client.V1ConfigMap(metadata=meta(name="settings")))
basic_auth = client.V1Secret(metadata=meta(name="login"), type="kubernetes.io/basic-auth")
secret = v1.create_namespaced_secret("typed", basic_auth)
for name, obj, reason in [("settings.1", config_map, "Loaded"), ("login.1", secret, "Rotated")]:
    v1.create_namespaced_event("typed", client.CoreV1Event(
        metadata=meta(name=name), reason=reason, message=name + " happened", type="Normal",
        involved_object=client.V1ObjectReference(api_version="v1", kind=obj.kind, namespace="typed",
                                                 name=obj.metadata.name, uid=obj.metadata.uid)))
names = lambda items: sorted(item.metadata.name for item in items)
print(json.dumps({
    "namespace": [namespace.api_version, namespace.kind, namespace.status.phase],
    "configMap": [config_map.api_version, config_map.kind],
    "aboutConfigMap": names(v1.list_namespaced_event("typed",
        field_selector="involvedObject.kind=ConfigMap,involvedObject.name=settings").items),
    "notLoaded": names(v1.list_namespaced_event("typed", field_selector="reason!=Loaded").items),
    "basicAuth": names(v1.list_namespaced_secret("typed", field_selector="type=kubernetes.io/basic-auth").items),
    "active": "typed" in names(v1.list_namespace(field_selector="status.phase=Active").items),
}))
`;

// The dynamic client's create, list by label in pages, merge patch; watch.Watch().stream from a list's
// resourceVersion, then resumed from the resourceVersion the first stream reached.
const WATCH = `
import json, sys
from kubernetes import client, config, dynamic, watch

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
dyn = dynamic.DynamicClient(client.ApiClient())
configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
for i in range(5):
    tier = "a" if i < 3 else "b"
    configmaps.create(namespace="default", body={"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "page-%d" % i, "labels": {"tier": tier}}, "data": {"i": str(i)}})
pages, token = [], None
while True:
    page = configmaps.get(namespace="default", label_selector="tier=a", limit=2, _continue=token).to_dict()
    pages.append([item["metadata"]["name"] for item in page["items"]])
    token = page["metadata"].get("continue")
    if not token:
        break
configmaps.patch(namespace="default", name="page-0", body={"data": {"i": "patched"}},
                 content_type="application/merge-patch+json")

# A watch from a list's resourceVersion, stopped after the first event; then one resumed from the
# resourceVersion the first reached (watch.Watch keeps it) sees only what came after.
start = v1.list_namespaced_config_map("default", label_selector="tier=b").metadata.resource_version
v1.patch_namespaced_config_map("page-3", "default", {"data": {"i": "first"}})
w = watch.Watch()
first = []
for event in w.stream(v1.list_namespaced_config_map, "default", label_selector="tier=b",
                      resource_version=start, timeout_seconds=30):
    first.append([event["type"], event["object"].metadata.name, event["object"].data["i"]])
    w.stop()
resumed_from = w.resource_version
v1.patch_namespaced_config_map("page-4", "default", {"data": {"i": "second"}})
again = watch.Watch()
second = []
for event in again.stream(v1.list_namespaced_config_map, "default", label_selector="tier=b",
                          resource_version=resumed_from, timeout_seconds=30):
    second.append([event["type"], event["object"].metadata.name, event["object"].data["i"]])
    again.stop()
print(json.dumps({"pages": pages, "first": first, "second": second,
                  "patched": v1.read_namespaced_config_map("page-0", "default").data["i"]}))
`;

// The dynamic client's server_side_apply: create, update, a conflict (409 with kube's message), force.
const APPLY = `
import json, sys
from kubernetes import config, dynamic
from kubernetes.client import api_client
from kubernetes.dynamic.exceptions import ConflictError

client = dynamic.DynamicClient(api_client.ApiClient(configuration=config.load_kube_config(config_file=sys.argv[1])))
apis = client.resources.get(api_version="gatehouse.dev/v1alpha1", kind="ApiDefinition")
# The client's REST layer sends only str bodies as application/apply-patch+yaml: JSON text, which is YAML.
def body(listen_path):
    upstream = {"targets": [{"url": "http://127.0.0.1:9000"}]}
    return json.dumps({"apiVersion": "gatehouse.dev/v1alpha1", "kind": "ApiDefinition", "metadata": {"name": "py-ssa"},
                       "spec": {"listenPath": listen_path, "upstream": upstream}})
def apply(listen_path, manager, **options):
    return apis.server_side_apply(body=body(listen_path), name="py-ssa", namespace="default", field_manager=manager,
                                  **options)
created = apply("/py/", "python")
updated = apply("/py2/", "python")
try:
    apply("/other/", "other")
    conflict = None
except ConflictError as err:
    conflict = json.loads(err.body)["message"]
forced = apply("/other/", "other", force_conflicts=True)
print(json.dumps({
    "managers": [e.manager + "/" + e.operation for e in created.metadata.managedFields],
    "updated": updated.spec.listenPath,
    "conflict": conflict,
    "forced": forced.spec.listenPath,
}))
`;

describe('the Python kubernetes client', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer();
  });
  after(async () => {
    await t.stop();
  });

  it('is installed (Debian package python3-kubernetes)', async () => {
    const missing = `${PYTHON} cannot import kubernetes: install python3-kubernetes`;
    await assert.doesNotReject(python('import kubernetes'), missing);
  });

  it('applies server-side with the dynamic client: create, update, conflict, force_conflicts', async () => {
    assert.deepEqual(JSON.parse(await python(APPLY, t.kubeconfigPath)), {
      managers: ['python/Apply'],
      updated: '/py2/',
      conflict: 'Apply failed with 1 conflict: conflict with "python": .spec.listenPath',
      forced: '/other/',
    });
  });

  it('lists in pages, patches, and watches with watch.Watch().stream, resuming where a stream stopped', async () => {
    assert.deepEqual(JSON.parse(await python(WATCH, t.kubeconfigPath)), {
      pages: [['page-0', 'page-1'], ['page-2']],
      first: [['MODIFIED', 'page-3', 'first']],
      second: [['MODIFIED', 'page-4', 'second']],
      patched: 'patched',
    });
  });

  it('creates typed built-in objects without apiVersion and kind and lists Events with field selectors', async () => {
    assert.deepEqual(JSON.parse(await python(TYPED, t.kubeconfigPath)), {
      namespace: ['v1', 'Namespace', 'Active'],
      configMap: ['v1', 'ConfigMap'],
      aboutConfigMap: ['settings.1'],
      notLoaded: ['login.1'],
      basicAuth: ['login'],
      active: true,
    });
  });
});
