/** A lazily loaded part of the console, with a spinner while it loads and words if it fails. */
import { Component, Suspense, lazy, type ComponentType, type ReactNode } from "react";
import type { Lazy } from "@/lib/extensions/types";
import { ErrorState, Loading } from "@/components/States";

const made = new WeakMap<Lazy<never>, ComponentType<never>>();
const loaded = new WeakMap<Lazy<never>, ComponentType<never>>();

/** Loads a part ahead of its first render (the page the app opens on); settles, never fails
 * (a failure shows when the part renders). */
export function preload<P>(load: Lazy<P>): Promise<void> {
  return load().then(
    (module) => void loaded.set(load as Lazy<never>, module.default as ComponentType<never>),
    () => undefined,
  );
}

/**
 * The component of a loader: the module itself once loaded, else one React.lazy per loader.
 * (A lazy component suspends on its first render even when its module is at hand, and React
 * holds a fallback it has shown for a moment: a preloaded page renders without either.)
 */
export function lazyOf<P>(load: Lazy<P>): ComponentType<P> {
  // The same component for a loader from its first render on: another would remount the part
  // (and lose its state) when the module arrives.
  let found = made.get(load as Lazy<never>) as ComponentType<P> | undefined;
  if (!found) found = loaded.get(load as Lazy<never>) as ComponentType<P> | undefined;
  if (found) made.set(load as Lazy<never>, found as ComponentType<never>);
  if (!found) {
    found = lazy(() =>
      load().then((module) => {
        loaded.set(load as Lazy<never>, module.default as ComponentType<never>);
        return module;
      }),
    ) as unknown as ComponentType<P>;
    made.set(load as Lazy<never>, found as ComponentType<never>);
  }
  return found;
}

export class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  render() {
    if (this.state.error) return <ErrorState error={this.state.error} retry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}

export function LazyPart<P extends object>({ load, props }: { load: Lazy<P>; props: P }) {
  const Part = lazyOf(load) as ComponentType<P>;
  return (
    <Boundary>
      <Suspense fallback={<Loading />}>
        <Part {...props} />
      </Suspense>
    </Boundary>
  );
}
