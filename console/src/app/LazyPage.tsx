/** A lazily loaded part of the console, with a spinner while it loads and words if it fails. */
import { Component, Suspense, lazy, type ComponentType, type ReactNode } from "react";
import type { Lazy } from "@/lib/extensions/types";
import { ErrorState, Loading } from "@/components/States";

const made = new WeakMap<Lazy<never>, ComponentType<never>>();

/** One React.lazy per loader, however often it renders. */
export function lazyOf<P>(load: Lazy<P>): ComponentType<P> {
  let found = made.get(load as Lazy<never>) as ComponentType<P> | undefined;
  if (!found) {
    found = lazy(load) as unknown as ComponentType<P>;
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
