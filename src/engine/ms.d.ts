// Typings for the `ms` package (2.x ships none; @types/ms is not a dependency).
declare module 'ms' {
  /** Milliseconds in a duration such as `'30s'`, or undefined when the text is not one. */
  function ms(value: string): number | undefined;
  export = ms;
}
