// Schema-validates Kubernetes manifests offline with kubernetes-models (TESTENV §6).
// Bare imports resolve from node_modules next to this file, so run it from a directory
// where `npm install` of package.json was done; deploy/validate copies it there.
// Usage: node validate-k8s.mjs FILE...   Prints `N passed, M failed`; exits 1 on failure.
// Limitation: kubernetes-models does NOT reject unknown fields.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
let bad = 0, n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { console.error(`${file}: YAML error: ${doc.errors[0].message}`); bad++; continue; }
    const obj = doc.toJS(); if (!obj) continue; n++;
    if (!obj.apiVersion || !obj.kind) { bad++; console.log(`FAIL ${file}: missing apiVersion or kind`); continue; }
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const mod = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
    try { const { [obj.kind]: Model } = await import(mod); new Model(obj).validate();
          console.log(`ok   ${file}: ${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}`); }
    catch (e) { bad++; console.log(`FAIL ${file}: ${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}: ${e.message.split("\n")[0]}`); }
  }
}
console.log(`${n - bad} passed, ${bad} failed`); process.exit(bad ? 1 : 0);
