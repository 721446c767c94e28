"""Clinical measures: words, syllables, speakers, not-the-client stretches, %SS, the moments' summary."""
