"""The nightly routine: the plan, the schedule, and the steps of a wind-down."""
