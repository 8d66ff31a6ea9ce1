package tracing

// NoSDK is noSDK, for the tests of package tracing_test.
var NoSDK = noSDK
