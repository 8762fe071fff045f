/**
 * The unit project's setup: a room alarm that threw during a test (on the in-memory host, where
 * nothing awaits an alarm) fails that test, with the error, instead of passing with a log line.
 */
import { afterEach } from "vitest";
import { throwAlarmFailures } from "./memory-host.ts";

afterEach(throwAlarmFailures);
