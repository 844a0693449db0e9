// What phone_adapter.js needs from the SDK, as one global (window.AcsCalling): the UMD build of
// @azure/communication-calling expects @azure/logger and @azure/communication-common as globals,
// so we bundle all three into one self-contained file instead.
export {
  CallClient,
  Features,
} from "@azure/communication-calling";
export { AzureCommunicationTokenCredential } from "@azure/communication-common";
export { setLogLevel } from "@azure/logger";
