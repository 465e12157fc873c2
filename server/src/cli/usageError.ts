// A mistake the auditor's CLI reports in one line on stderr and exit status 2, never a stack trace.
export class UsageError extends Error {
  /** Print the usage text after the message (a mistake in the command line itself). */
  readonly showUsage: boolean;

  constructor(message: string, showUsage = false) {
    super(message);
    this.showUsage = showUsage;
  }
}
