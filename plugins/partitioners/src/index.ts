/** @tributary/partitioners: Extra partitioners for Tributary. Filled in by its own issue. */
export const PACKAGE = '@tributary/partitioners';
