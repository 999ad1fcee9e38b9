/* Environment switches, read the same way by every part of the library:
 * blanks around a value are ignored, and words are matched in any case. */
#include <string.h>
#include <strings.h>
#include "internal.h"

int env_word_is(const char *v, const char *word)
{
    while (*v == ' ' || *v == '\t')
        v++;
    const size_t n = strlen(word);
    if (strncasecmp(v, word, n))
        return 0;
    for (v += n; *v == ' ' || *v == '\t'; v++)
        ;
    return *v == 0;
}

int env_says_off(const char *v)
{
    return v && (env_word_is(v, "0") || env_word_is(v, "off") || env_word_is(v, "no") ||
                 env_word_is(v, "false"));
}

int env_says_on(const char *v)
{
    return v && (env_word_is(v, "1") || env_word_is(v, "on") || env_word_is(v, "yes") ||
                 env_word_is(v, "true"));
}
