// The pages after the form: completion (with the survey's message), screened out, quota full,
// exited, already submitted; and the redirect as the survey configures it (Intake24's redirect
// prompt timer: 0 = a button only, negative = at once, positive = a countdown in seconds).
import { useEffect, useRef, useState } from 'react';
import type { Outcome } from './api.ts';

const TITLES: Record<Outcome['outcome'], string> = {
  completed: 'Thank you!',
  disqualified: 'Thank you for your interest',
  quota_full: 'This survey is full',
  exited: 'You have left the survey',
};
const TEXTS: Record<Outcome['outcome'], string> = {
  completed: 'Your answers have been submitted.',
  disqualified: 'Unfortunately you do not match the profile this survey is looking for.',
  quota_full: 'We already have all the answers we need for this survey.',
  exited: 'Your answers so far have been kept. You cannot return to this survey.',
};

export function Redirect({ url, timer }: { url: string; timer: number }) {
  const [left, setLeft] = useState(timer);
  const went = useRef(false);
  useEffect(() => {
    if (timer < 0 && !went.current) {
      went.current = true;
      window.location.replace(url);
      return;
    }
    if (timer <= 0) return;
    const t = window.setInterval(() => setLeft((s) => s - 1), 1000);
    return () => window.clearInterval(t);
  }, [timer, url]);
  useEffect(() => {
    if (timer > 0 && left <= 0 && !went.current) {
      went.current = true;
      window.location.assign(url);
    }
  }, [left, timer, url]);
  return (
    <div className="redirect">
      {timer > 0 && left > 0 ? <p role="status">You will be taken back in {left} second{left === 1 ? '' : 's'}.</p> : null}
      {timer < 0 ? <p role="status">Taking you back…</p> : null}
      <a className="button" href={url} rel="noreferrer">Continue</a>
    </div>
  );
}

export function OutcomePage({ result, fresh, message, timer }: { result: Outcome; fresh: boolean; message?: string; timer: number }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const title = fresh ? TITLES[result.outcome] : 'You have already taken part';
  const text = !fresh
    ? 'This survey has already been submitted from your account; it cannot be taken twice.'
    : result.outcome === 'completed' && message ? message : TEXTS[result.outcome];
  return (
    <section className={`outcome ${result.outcome}`} data-outcome={result.outcome} data-fresh={fresh ? 'yes' : 'no'}>
      <h2 tabIndex={-1} ref={heading}>{title}</h2>
      <p className="message">{text}</p>
      {/* Coming back later never jumps away by itself: only the first visit follows the timer. */}
      {result.redirectUrl ? <Redirect url={result.redirectUrl} timer={fresh ? timer : 0} /> : null}
    </section>
  );
}

export function InfoPage({ title, text, kind }: { title: string; text: string; kind: string }) {
  return (
    <section className={`outcome ${kind}`} data-page={kind}>
      <h2>{title}</h2>
      <p className="message">{text}</p>
    </section>
  );
}
