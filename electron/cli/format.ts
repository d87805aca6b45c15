/** Counts as people read them: 20,000 rather than 20000. */
export const number = new Intl.NumberFormat('en-US');
