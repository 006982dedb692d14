"""Topics stage: seeded topic models, coherence, stability, choice of K, prevalence.

- :class:`SeededTopicModel` — LDA (gensim) or NMF (scikit-learn) over segment stems,
  with topic k anchored to codebook theme k by its seed words (``model``).
- :func:`npmi_coherence`, :func:`umass_coherence` — coherence that is never nan or inf
  (``coherence``).
- :func:`topic_stability`, :func:`select_num_topics`, :func:`choose_num_topics` —
  agreement of topics across random states and the documented rule for K
  (``selection``).
- :func:`theme_seed_stems` — a theme's seed stems, expanded with words of its own
  codebook text (``seeding``).
- :func:`topic_prevalence` — mean topic proportion per informant group with a bootstrap
  interval over informants (``prevalence``).
"""

from .coherence import absent_terms, npmi_coherence, umass_coherence
from .model import SeededTopicModel
from .prevalence import topic_prevalence
from .seeding import SEED_FIELDS, theme_seed_stems
from .selection import (
    choose_num_topics,
    matched_jaccard,
    select_num_topics,
    topic_stability,
)

__all__ = ["SEED_FIELDS", "SeededTopicModel", "absent_terms", "choose_num_topics", "matched_jaccard",
           "npmi_coherence", "select_num_topics", "theme_seed_stems", "topic_prevalence",
           "topic_stability", "umass_coherence"]
