/**
 * The wizard's model, everything about it that is not React: the form state and its
 * defaults (`form.ts`), what is wrong with it (`validation.ts`) and the objects it stands for
 * (`objects.ts`). The pages import from here; the parts stay small and separately readable.
 */
export * from "./form";
export { problemsOf, stepOf, validate, type Errors, type Problem, type ProblemCode, type StepId } from "./validation";
export { dockerConfig, toObjects } from "./objects";
