/**
 * What the server and its clients must read the same way, beside the generated messages: the
 * wire names of error reasons, the shape of a session token, and the text form of durations in
 * options and settings.
 */
package dev.tokenauthority.contract;
