#ifndef CCURLSHIM_H
#define CCURLSHIM_H
// What Swift cannot call: curl_easy_setopt and curl_easy_getinfo are variadic. One typed wrapper per
// argument type; nothing else.
#include <curl/curl.h>

typedef size_t (*CCurlShim_DataCallback)(char *data, size_t size, size_t count, void *userdata);

CURLcode CCurlShim_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CCurlShim_setopt_pointer(CURL *handle, CURLoption option, const void *value);
CURLcode CCurlShim_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode CCurlShim_setopt_callback(CURL *handle, CURLoption option, CCurlShim_DataCallback callback);
CURLcode CCurlShim_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode CCurlShim_getinfo_double(CURL *handle, CURLINFO info, double *value);

#endif
