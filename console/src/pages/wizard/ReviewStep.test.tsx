// The review's YAML: every object, in order, with a Secret's values left out.
import { parse, parseAllDocuments } from "yaml";
import { initialState, toObjects } from "./model";
import { previewYaml } from "./ReviewStep";

it("shows every object and hides the registry password", () => {
  const state = initialState("StatefulSet");
  state.name = "db";
  state.containers[0].image = "postgres:16";
  state.pullSecret = { mode: "new", existing: "", name: "", server: "registry.example.com", username: "me", password: "s3cret", email: "" };
  const objects = toObjects(state, "demo");
  const text = previewYaml(objects, "(hidden)");
  const documents = parseAllDocuments(text).map((document) => document.toJS());
  expect(documents.map((document) => document.kind)).toEqual(["Secret", "StatefulSet", "Service"]);
  expect(documents[0].data).toEqual({ ".dockerconfigjson": "(hidden)" });
  expect(text).not.toContain(objects[0].data[".dockerconfigjson"]);
  expect(parse(text.split("---\n")[1]).spec.serviceName).toBe("db");
});
