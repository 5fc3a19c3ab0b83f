// Property tests explore new random cases on every local run; CI replays a fixed seed so a
// landing never depends on luck (a counterexample found locally becomes a named test case).
import fc from 'fast-check';

if (process.env.CI) fc.configureGlobal({ seed: 20261201 });
