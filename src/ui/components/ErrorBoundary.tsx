import { Component, type ReactNode } from 'react';

/** Keeps the rest of the page alive when one panel fails to render. */
export class ErrorBoundary extends Component<{ name: string; children: ReactNode }, { error: string | null }> {
  override state = { error: null as string | null };

  static getDerivedStateFromError(err: unknown) {
    return { error: err instanceof Error ? err.message : String(err) };
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <section className="panel">
        <p className="error" role="alert">
          The {this.props.name} panel failed: {this.state.error}{' '}
          <button type="button" onClick={() => this.setState({ error: null })}>
            Retry
          </button>
        </p>
      </section>
    );
  }
}
