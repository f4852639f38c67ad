BEGIN TRANSACTION;
CREATE TABLE consents (
	id INTEGER NOT NULL, 
	subscriber_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	method VARCHAR(40) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE
);
INSERT INTO "consents" VALUES(1,1,'2026-12-01 11:50:01.192286','subscribed','cli','{"agreed": "daily research-paper digest by email, topics as chosen; unsubscribe any time", "topics": null}');
INSERT INTO "consents" VALUES(2,1,'2026-12-01 11:50:01.192286','confirmed','cli','{"agreed": "daily research-paper digest by email, topics as chosen; unsubscribe any time", "topics": null}');
INSERT INTO "consents" VALUES(3,2,'2026-12-01 11:50:07.320437','subscribed','cli','{"agreed": "daily research-paper digest by email, topics as chosen; unsubscribe any time", "topics": "llm"}');
INSERT INTO "consents" VALUES(4,2,'2026-12-01 11:50:07.320437','confirmed','cli','{"agreed": "daily research-paper digest by email, topics as chosen; unsubscribe any time", "topics": "llm"}');
INSERT INTO "consents" VALUES(5,3,'2026-12-01 11:50:14.003608','subscribed','cli','{"agreed": "daily research-paper digest by email, topics as chosen; unsubscribe any time", "topics": null}');
INSERT INTO "consents" VALUES(6,2,'2026-12-01 11:50:30.857391','unsubscribed','cli','{}');
CREATE TABLE editions (
	id INTEGER NOT NULL, 
	date DATE NOT NULL, 
	number INTEGER NOT NULL, 
	paper_count INTEGER NOT NULL, 
	payload TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_editions_date_number UNIQUE (date, number)
);
INSERT INTO "editions" VALUES(1,'2026-11-20',1,23,'{
  "date": "2026-11-20",
  "number": 1,
  "paper_count": 23,
  "schema": 1,
  "sections": [
    {
      "papers": [
        {
          "abstract": "Small language models often produce fluent but wrong arithmetic inside longer reasoning chains. We introduce Ledger, a fine-tuning recipe in which the model writes a compact running tally after each step and is rewarded for tallies that a symbolic checker can verify. On four grade-school and competition math benchmarks, a 1.5B-parameter model trained with Ledger closes half of the gap to a model ten times its size. The tallies also make failures easy to locate, since the first unverifiable line usually marks the error.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:ledger teaching small language models to check their own arithmetic",
          "source": "sample-digest.txt",
          "title": "Ledger: Teaching Small Language Models to Check Their Own Arithmetic",
          "topic": "llm",
          "topics": [
            "llm"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Ledger%3A+Teaching+Small+Language+Models+to+Check+Their+Own+Arithmetic"
        },
        {
          "abstract": "Chat assistants are expected to follow their system prompt for the whole conversation, yet users report that behaviour changes after many turns. We build a benchmark of 3,000 synthetic dialogues up to 200 turns long and measure how often eleven open and closed models keep to formatting, persona and safety instructions. Adherence falls steadily with length for every model, and the drop is sharpest for formatting rules. A simple reminder inserted every twenty turns recovers most of the loss at negligible cost.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:instruction drift how long conversations erode system prompts",
          "source": "sample-digest.txt",
          "title": "Instruction Drift: How Long Conversations Erode System Prompts",
          "topic": "llm",
          "topics": [
            "llm"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Instruction+Drift%3A+How+Long+Conversations+Erode+System+Prompts"
        }
      ],
      "title": "Language Models",
      "topic": "llm"
    },
    {
      "papers": [
        {
          "abstract": "Scientific figures often combine several panels, legends and shared axes, which current vision-language models read poorly. We release PaneQA, 18,000 questions about multi-panel figures from open-access papers, and PaneVLM, a model that first detects panels and then answers with explicit references to them. PaneVLM improves accuracy by 12 points over the strongest open baseline. Errors that remain are dominated by questions that require comparing values across panels.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:panevlm reading multi panel scientific figures with vision language models",
          "source": "sample-digest.txt",
          "title": "PaneVLM: Reading Multi-Panel Scientific Figures with Vision-Language Models",
          "topic": "multimodal",
          "topics": [
            "multimodal"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=PaneVLM%3A+Reading+Multi-Panel+Scientific+Figures+with+Vision-Language+Models"
        }
      ],
      "title": "Multimodal & Vision-Language",
      "topic": "multimodal"
    },
    {
      "papers": [
        {
          "abstract": "Token merging speeds up vision transformers but blurs object boundaries, which hurts segmentation and depth estimation. We propose to protect tokens near image edges from merging, using a cheap gradient-based edge score computed once per image. Across three segmentation and two depth benchmarks, edge-aware merging keeps accuracy within half a point of the unmerged model while cutting latency by a third. The method needs no retraining and works with existing backbones.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:edge aware token merging for dense prediction transformers",
          "source": "sample-digest.txt",
          "title": "Edge-Aware Token Merging for Dense Prediction Transformers",
          "topic": "vision",
          "topics": [
            "vision",
            "efficiency"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Edge-Aware+Token+Merging+for+Dense+Prediction+Transformers"
        },
        {
          "abstract": "Reconstructing a room from a handful of phone photos remains hard because views overlap little and lighting varies. We combine a monocular depth prior with a lightweight Gaussian splatting optimizer that is regularised toward planar walls and floors. With only eight images per room, our approach halves the depth error of previous sparse-view methods on two indoor datasets. Reconstructions take under two minutes on a laptop GPU.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:few shot 3d reconstruction of indoor scenes from sparse phone captures",
          "source": "sample-digest.txt",
          "title": "Few-Shot 3D Reconstruction of Indoor Scenes from Sparse Phone Captures",
          "topic": "vision",
          "topics": [
            "vision",
            "efficiency"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Few-Shot+3D+Reconstruction+of+Indoor+Scenes+from+Sparse+Phone+Captures"
        }
      ],
      "title": "Computer Vision",
      "topic": "vision"
    },
    {
      "papers": [
        {
          "abstract": "Generating several video clips of the same character usually requires per-subject fine-tuning. We inject identity features from a single reference image into the temporal attention layers of a pretrained video diffusion model through a small adapter trained once on public data. A user study prefers our clips for identity consistency in 71% of comparisons against fine-tuned baselines. Generation time is unchanged, and the adapter transfers to two other video backbones.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:consistent characters identity preserving video diffusion without fine tuning",
          "source": "sample-digest.txt",
          "title": "Consistent Characters: Identity-Preserving Video Diffusion Without Fine-Tuning",
          "topic": "generative",
          "topics": [
            "generative",
            "vision"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Consistent+Characters%3A+Identity-Preserving+Video+Diffusion+Without+Fine-Tuning"
        },
        {
          "abstract": "Designers often start from a rough sketch, but layout generators accept only text or element lists. We train a diffusion model that turns a freehand sketch and a short brief into an editable layout of text boxes, images and shapes. A new metric checks whether generated layouts respect the sketch''s structure rather than only its pixels. Professional designers rated the results as usable starting points in most cases.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:sketch to layout controllable diffusion for graphic design",
          "source": "sample-digest.txt",
          "title": "Sketch-to-Layout: Controllable Diffusion for Graphic Design",
          "topic": "generative",
          "topics": [
            "generative"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Sketch-to-Layout%3A+Controllable+Diffusion+for+Graphic+Design"
        },
        {
          "abstract": "Symbolic music models usually tokenize notes on a fixed time grid, which wastes capacity and obscures rhythm. We propose rhythm tokens that align every event to the beat and encode onsets relative to it. Transformers trained on rhythm tokens produce pieces that listeners judge more rhythmically coherent, and they train about 40% faster because sequences are shorter. The tokenizer is released as a small library.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:rhythm tokens a beat synchronous representation for symbolic music generation",
          "source": "sample-digest.txt",
          "title": "Rhythm Tokens: A Beat-Synchronous Representation for Symbolic Music Generation",
          "topic": "generative",
          "topics": [
            "generative"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Rhythm+Tokens%3A+A+Beat-Synchronous+Representation+for+Symbolic+Music+Generation"
        }
      ],
      "title": "Generative Models",
      "topic": "generative"
    },
    {
      "papers": [
        {
          "abstract": "Most video assistants ignore the soundtrack even when the answer depends on it. We collect 90,000 instruction examples whose answers require both audio and visual evidence and use them to tune a video-language model with an added audio encoder. The tuned model answers sound-dependent questions far more reliably while keeping its scores on vision-only benchmarks. We also find that a short audio caption is a surprisingly strong substitute for raw audio features.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:listening while watching audio visual instruction tuning for video assistants",
          "source": "sample-digest.txt",
          "title": "Listening While Watching: Audio-Visual Instruction Tuning for Video Assistants",
          "topic": "audio",
          "topics": [
            "audio",
            "multimodal",
            "llm"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Listening+While+Watching%3A+Audio-Visual+Instruction+Tuning+for+Video+Assistants"
        },
        {
          "abstract": "Target speaker extraction systems typically need several seconds of clean enrollment speech. We show that a single spoken word is enough when the speaker embedding is trained with heavy augmentation and a contrastive objective over short segments. On mixtures of two and three speakers, our system matches the quality of five-second enrollment within 0.6 dB of SI-SDR. This makes extraction practical for voice assistants that hear their user''s wake word anyway.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:whisper in the crowd target speaker extraction from a single enrollment word",
          "source": "sample-digest.txt",
          "title": "Whisper in the Crowd: Target Speaker Extraction from a Single Enrollment Word",
          "topic": "audio",
          "topics": [
            "audio"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Whisper+in+the+Crowd%3A+Target+Speaker+Extraction+from+a+Single+Enrollment+Word"
        }
      ],
      "title": "Speech & Audio",
      "topic": "audio"
    },
    {
      "papers": [
        {
          "abstract": "Mixture-of-experts language models are attractive for serving but degrade sharply under aggressive quantization. We trace most of the damage to the router, whose small logit differences decide which experts fire. Keeping only the router in higher precision while quantizing experts to 3 bits recovers nearly all of the full-precision accuracy. Combined with expert-wise calibration, this allows a 47B-parameter model to run on a single 24 GB GPU.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:quantize the router last stable low bit inference for mixture of experts models",
          "source": "sample-digest.txt",
          "title": "Quantize the Router Last: Stable Low-Bit Inference for Mixture-of-Experts Models",
          "topic": "efficiency",
          "topics": [
            "efficiency"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Quantize+the+Router+Last%3A+Stable+Low-Bit+Inference+for+Mixture-of-Experts+Models"
        },
        {
          "abstract": "Speculative decoding needs a small draft model that agrees with the large target model. Instead of training a draft model separately, we prune the target itself, choosing which layers and heads to remove by how much they change the acceptance rate. The resulting drafts are accepted more often than independently trained models of the same size. End-to-end generation becomes 2.1× faster with no change to the output distribution.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:specprune structured pruning guided by speculative decoding acceptance",
          "source": "sample-digest.txt",
          "title": "SpecPrune: Structured Pruning Guided by Speculative Decoding Acceptance",
          "topic": "efficiency",
          "topics": [
            "efficiency"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=SpecPrune%3A+Structured+Pruning+Guided+by+Speculative+Decoding+Acceptance"
        }
      ],
      "title": "Efficient ML",
      "topic": "efficiency"
    },
    {
      "papers": [
        {
          "abstract": "Learned video codecs now rival traditional ones in rate-distortion–yet they rarely hit a requested bitrate precisely. We add a rate controller that predicts, per frame, the quantization level needed to meet a target budget, trained jointly with the codec. On standard test sequences our codec stays within 2% of the target bitrate while keeping its compression gains over hand-tuned encoders. Rate control adds less than one millisecond per frame.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:learned video compression at human level rate control",
          "source": "sample-digest.txt",
          "title": "Learned Video Compression at Human-Level Rate Control",
          "topic": "compression",
          "topics": [
            "compression"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Learned+Video+Compression+at+Human-Level+Rate+Control"
        },
        {
          "abstract": "High-resolution elevation maps of planets and moons take terabytes to store and stream. We fit multiresolution hash-grid neural fields to elevation tiles and store only the network weights. At equal error, the representation is eight times smaller than the best wavelet codec, and any region can be decoded at any resolution on demand. We discuss the trade-offs for onboard use on exploration rovers.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:neural fields for planetary terrain compact elevation maps with multiresolution hashing",
          "source": "sample-digest.txt",
          "title": "Neural Fields for Planetary Terrain: Compact Elevation Maps with Multiresolution Hashing",
          "topic": "compression",
          "topics": [
            "compression",
            "retrieval"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Neural+Fields+for+Planetary+Terrain%3A+Compact+Elevation+Maps+with+Multiresolution+Hashing"
        }
      ],
      "title": "Compression & Neural Representations",
      "topic": "compression"
    },
    {
      "papers": [
        {
          "abstract": "Contrastive learning depends on negative examples, yet the effect of their difficulty is poorly understood. We train over 300 image encoders while controlling how hard the negatives are and measure downstream performance on twenty tasks. Moderately hard negatives help consistently, while the very hardest ones often turn out to be false negatives and hurt. We propose a cheap filter that removes likely false negatives and improves linear-probe accuracy on most tasks.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:what makes a good negative a study of hard negatives in contrastive pretraining",
          "source": "sample-digest.txt",
          "title": "What Makes a Good Negative? A Study of Hard Negatives in Contrastive Pretraining",
          "topic": "representation",
          "topics": [
            "representation"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=What+Makes+a+Good+Negative%3F+A+Study+of+Hard+Negatives+in+Contrastive+Pretraining"
        },
        {
          "abstract": "Why does a chat model refuse some requests and not others? We train sparse autoencoders on the residual stream of an open chat model and identify a small set of features that fire before refusals. Ablating these features removes most refusals, while amplifying them causes refusals on harmless prompts. The features generalise across languages, which suggests a shared internal representation of risky requests.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:sparse features predict refusals interpreting safety behaviour with dictionary learning",
          "source": "sample-digest.txt",
          "title": "Sparse Features Predict Refusals: Interpreting Safety Behaviour with Dictionary Learning",
          "topic": "representation",
          "topics": [
            "representation",
            "efficiency"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Sparse+Features+Predict+Refusals%3A+Interpreting+Safety+Behaviour+with+Dictionary+Learning"
        }
      ],
      "title": "Representation Learning & Theory",
      "topic": "representation"
    },
    {
      "papers": [
        {
          "abstract": "Shoppers refine their queries within a session, but most retrievers treat each query alone. We encode the recent session as a short sequence of queries and clicked items and condition a dense retriever on it. Offline, recall at 100 improves by nine points on logs from a large online store, and an online experiment raises purchases per session by 1.8%. The model adds only a few milliseconds of latency.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:session aware dense retrieval for e commerce search",
          "source": "sample-digest.txt",
          "title": "Session-Aware Dense Retrieval for E-Commerce Search",
          "topic": "retrieval",
          "topics": [
            "retrieval"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Session-Aware+Dense+Retrieval+for+E-Commerce+Search"
        },
        {
          "abstract": "New items have no interaction history, so collaborative filtering cannot recommend them. We ask a language model to write a structured profile of each item from its description and use the profile embeddings as item features in a standard two-tower recommender. On three public datasets, cold-start recall doubles compared with using raw descriptions. Profiles are generated once per item, so serving cost is unchanged.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:cold start recommendation with language model item profiles",
          "source": "sample-digest.txt",
          "title": "Cold-Start Recommendation with Language-Model Item Profiles",
          "topic": "retrieval",
          "topics": [
            "retrieval"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Cold-Start+Recommendation+with+Language-Model+Item+Profiles"
        }
      ],
      "title": "Retrieval & Recommendation",
      "topic": "retrieval"
    },
    {
      "papers": [
        {
          "abstract": "Code models struggle with changes that span many files. CodeSketch first asks the model to write a short outline of the intended edit in plain language, then grounds each outline item in concrete file and function names before generating patches. On a benchmark of 600 real pull requests, outlines raise the share of patches that pass the project''s tests from 31% to 44%. Developers in a small user study found the outlines useful for reviewing the model''s intent.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:codesketch planning repository level edits with natural language outlines",
          "source": "sample-digest.txt",
          "title": "CodeSketch: Planning Repository-Level Edits with Natural-Language Outlines",
          "topic": "agents",
          "topics": [
            "agents",
            "llm"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=CodeSketch%3A+Planning+Repository-Level+Edits+with+Natural-Language+Outlines"
        },
        {
          "abstract": "Web agents trained on fixed task sets stop improving once they have mastered them. We let an agent propose new tasks near the edge of its ability, using its own recent failures as seeds, and train it with reinforcement learning on the tasks it can verify. Over ten rounds, success on a held-out suite of real websites rises from 23% to 41%. The generated curriculum covers forms, search and multi-page navigation without human labelling.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:curriculum from failures self generated tasks for web agents",
          "source": "sample-digest.txt",
          "title": "Curriculum from Failures: Self-Generated Tasks for Web Agents",
          "topic": "agents",
          "topics": [
            "agents"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Curriculum+from+Failures%3A+Self-Generated+Tasks+for+Web+Agents"
        },
        {
          "abstract": "Robots grasping objects from cluttered bins rely mainly on vision, which fails under occlusion. We pretrain a tactile encoder on a large set of unlabeled touches and fine-tune a grasping policy that combines touch and vision. In real-robot experiments with 60 household objects, the policy''s grasp success rises from 68% to 83%. Most of the gain comes from objects that are partly hidden.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:grasping in clutter with tactile pretraining",
          "source": "sample-digest.txt",
          "title": "Grasping in Clutter with Tactile Pretraining",
          "topic": "agents",
          "topics": [
            "agents"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Grasping+in+Clutter+with+Tactile+Pretraining"
        }
      ],
      "title": "Agents, RL & Robotics",
      "topic": "agents"
    },
    {
      "papers": [
        {
          "abstract": "Crop stress is costly when noticed late, but labelled field data are scarce. We show that features from a pretrained remote-sensing foundation model, combined with a small temporal head, detect water stress up to two weeks before it becomes visible in standard vegetation indices. Trained on three regions and tested on two others, the model keeps most of its accuracy. We release the labelled field dataset.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:foundation model features for early detection of crop stress from satellite images",
          "source": "sample-digest.txt",
          "title": "Foundation Model Features for Early Detection of Crop Stress from Satellite Images",
          "topic": "science",
          "topics": [
            "science",
            "vision"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Foundation+Model+Features+for+Early+Detection+of+Crop+Stress+from+Satellite+Images"
        },
        {
          "abstract": "Segmentation models for brain MRI often fail silently on images from unseen scanners. We train an ensemble with scanner-style augmentation and report voxel-wise uncertainty alongside each mask. On data from four hospitals not seen in training, high-uncertainty cases account for most segmentation errors, so flagging them for review catches 80% of failures while sending only 15% of scans to a radiologist. Code and a model card are available.",
          "arxiv_id": null,
          "authors": [],
          "categories": [],
          "digest_date": "2026-11-19",
          "id": "title:uncertainty aware segmentation of brain lesions across scanners",
          "source": "sample-digest.txt",
          "title": "Uncertainty-Aware Segmentation of Brain Lesions Across Scanners",
          "topic": "science",
          "topics": [
            "science",
            "vision"
          ],
          "upvotes": null,
          "url": "https://arxiv.org/search/?searchtype=title&query=Uncertainty-Aware+Segmentation+of+Brain+Lesions+Across+Scanners"
        }
      ],
      "title": "Science & Health",
      "topic": "science"
    }
  ]
}
','2026-12-01 11:50:23.132686');
CREATE TABLE ingested_files (
	content_hash VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	ingested_at DATETIME NOT NULL, 
	PRIMARY KEY (content_hash)
);
CREATE TABLE paper_bands (
	band BIGINT NOT NULL, 
	paper_id INTEGER NOT NULL, 
	PRIMARY KEY (band, paper_id)
)
 WITHOUT ROWID

;
INSERT INTO "paper_bands" VALUES(-4598269530589649717,20);
INSERT INTO "paper_bands" VALUES(-4583732117845666502,2);
INSERT INTO "paper_bands" VALUES(-4579679446160497082,20);
INSERT INTO "paper_bands" VALUES(-4571202215423651697,22);
INSERT INTO "paper_bands" VALUES(-4497601784327897666,13);
INSERT INTO "paper_bands" VALUES(-4478050711364636284,11);
INSERT INTO "paper_bands" VALUES(-4472461215214149771,21);
INSERT INTO "paper_bands" VALUES(-4460253331630216266,3);
INSERT INTO "paper_bands" VALUES(-4389853337941184400,7);
INSERT INTO "paper_bands" VALUES(-4359651690067771477,23);
INSERT INTO "paper_bands" VALUES(-4347077671581502820,6);
INSERT INTO "paper_bands" VALUES(-4334728644369747427,14);
INSERT INTO "paper_bands" VALUES(-4315555871148451695,18);
INSERT INTO "paper_bands" VALUES(-4300041323769189930,22);
INSERT INTO "paper_bands" VALUES(-4298887009359814219,14);
INSERT INTO "paper_bands" VALUES(-4282906011753424296,20);
INSERT INTO "paper_bands" VALUES(-4277463845743887670,17);
INSERT INTO "paper_bands" VALUES(-4248048392987902931,4);
INSERT INTO "paper_bands" VALUES(-4221619380482378736,13);
INSERT INTO "paper_bands" VALUES(-4192778918539187800,7);
INSERT INTO "paper_bands" VALUES(-4185156206671863418,18);
INSERT INTO "paper_bands" VALUES(-4167851358893196239,8);
INSERT INTO "paper_bands" VALUES(-4136472760474442415,9);
INSERT INTO "paper_bands" VALUES(-4117392555016631897,10);
INSERT INTO "paper_bands" VALUES(-4106898337827582313,3);
INSERT INTO "paper_bands" VALUES(-4105224943601063681,11);
INSERT INTO "paper_bands" VALUES(-4094955854065779528,7);
INSERT INTO "paper_bands" VALUES(-4084453411624803593,9);
INSERT INTO "paper_bands" VALUES(-4068913796168675957,16);
INSERT INTO "paper_bands" VALUES(-4063703811439740969,13);
INSERT INTO "paper_bands" VALUES(-4058744754540169699,11);
INSERT INTO "paper_bands" VALUES(-4053729545824480103,18);
INSERT INTO "paper_bands" VALUES(-3969715271768835060,21);
INSERT INTO "paper_bands" VALUES(-3953940482678881093,13);
INSERT INTO "paper_bands" VALUES(-3919193820084426920,21);
INSERT INTO "paper_bands" VALUES(-3902110172750766423,22);
INSERT INTO "paper_bands" VALUES(-3900391436779936766,4);
INSERT INTO "paper_bands" VALUES(-3881914754643176964,1);
INSERT INTO "paper_bands" VALUES(-3833776400471629343,12);
INSERT INTO "paper_bands" VALUES(-3816573175028937691,8);
INSERT INTO "paper_bands" VALUES(-3787374809095263347,18);
INSERT INTO "paper_bands" VALUES(-3775462845369331476,14);
INSERT INTO "paper_bands" VALUES(-3756419923595030947,12);
INSERT INTO "paper_bands" VALUES(-3718845195397803112,19);
INSERT INTO "paper_bands" VALUES(-3692790208017674699,5);
INSERT INTO "paper_bands" VALUES(-3682040187493274169,23);
INSERT INTO "paper_bands" VALUES(-3680538733402885904,4);
INSERT INTO "paper_bands" VALUES(-3668176641400678926,21);
INSERT INTO "paper_bands" VALUES(-3651963505935487143,23);
INSERT INTO "paper_bands" VALUES(-3644941394343632945,6);
INSERT INTO "paper_bands" VALUES(-3631246175886374348,7);
INSERT INTO "paper_bands" VALUES(-3628532784799664251,13);
INSERT INTO "paper_bands" VALUES(-3582314392232185329,13);
INSERT INTO "paper_bands" VALUES(-3547405462569924602,19);
INSERT INTO "paper_bands" VALUES(-3513860793097565429,6);
INSERT INTO "paper_bands" VALUES(-3486973815366626681,19);
INSERT INTO "paper_bands" VALUES(-3457719934311139392,22);
INSERT INTO "paper_bands" VALUES(-3433851611652562693,10);
INSERT INTO "paper_bands" VALUES(-3414414014870612514,2);
INSERT INTO "paper_bands" VALUES(-3396721390511044063,3);
INSERT INTO "paper_bands" VALUES(-3374988818167988403,5);
INSERT INTO "paper_bands" VALUES(-3372999606173766952,8);
INSERT INTO "paper_bands" VALUES(-3371509593202152149,7);
INSERT INTO "paper_bands" VALUES(-3277734281520872314,10);
INSERT INTO "paper_bands" VALUES(-3258324659144262543,21);
INSERT INTO "paper_bands" VALUES(-3236322601769970565,15);
INSERT INTO "paper_bands" VALUES(-3093403412357408851,19);
INSERT INTO "paper_bands" VALUES(-3081538232641048928,7);
INSERT INTO "paper_bands" VALUES(-3001525382760480276,9);
INSERT INTO "paper_bands" VALUES(-2998328915439377291,16);
INSERT INTO "paper_bands" VALUES(-2997592378380036023,23);
INSERT INTO "paper_bands" VALUES(-2992110895784768372,23);
INSERT INTO "paper_bands" VALUES(-2988613848356092116,2);
INSERT INTO "paper_bands" VALUES(-2980789903327013065,1);
INSERT INTO "paper_bands" VALUES(-2980048050156643817,2);
INSERT INTO "paper_bands" VALUES(-2940212302292490754,17);
INSERT INTO "paper_bands" VALUES(-2938926079335521470,5);
INSERT INTO "paper_bands" VALUES(-2937025727118227000,15);
INSERT INTO "paper_bands" VALUES(-2934067640274993718,20);
INSERT INTO "paper_bands" VALUES(-2919570825775654079,13);
INSERT INTO "paper_bands" VALUES(-2898190055722776696,6);
INSERT INTO "paper_bands" VALUES(-2890374627992967922,11);
INSERT INTO "paper_bands" VALUES(-2877587835994342515,10);
INSERT INTO "paper_bands" VALUES(-2839497138913393054,1);
INSERT INTO "paper_bands" VALUES(-2838825919101527483,11);
INSERT INTO "paper_bands" VALUES(-2783039549767662488,15);
INSERT INTO "paper_bands" VALUES(-2762583161102951795,16);
INSERT INTO "paper_bands" VALUES(-2751062668282249116,16);
INSERT INTO "paper_bands" VALUES(-2716922069410238375,22);
INSERT INTO "paper_bands" VALUES(-2701399972614163011,16);
INSERT INTO "paper_bands" VALUES(-2686431018072748942,9);
INSERT INTO "paper_bands" VALUES(-2676317329302689286,5);
INSERT INTO "paper_bands" VALUES(-2609094315769503282,19);
INSERT INTO "paper_bands" VALUES(-2593293378028082471,2);
INSERT INTO "paper_bands" VALUES(-2592505573630769000,12);
INSERT INTO "paper_bands" VALUES(-2588891511712496895,18);
INSERT INTO "paper_bands" VALUES(-2552624226720809873,8);
INSERT INTO "paper_bands" VALUES(-2529084774432346096,20);
INSERT INTO "paper_bands" VALUES(-2519267373036844088,4);
INSERT INTO "paper_bands" VALUES(-2463968869445491786,22);
INSERT INTO "paper_bands" VALUES(-2361553947348426304,17);
INSERT INTO "paper_bands" VALUES(-2350267086861645445,19);
INSERT INTO "paper_bands" VALUES(-2300837623138310986,14);
INSERT INTO "paper_bands" VALUES(-2271670620311654795,1);
INSERT INTO "paper_bands" VALUES(-2260783886720321273,15);
INSERT INTO "paper_bands" VALUES(-2237555019755852138,17);
INSERT INTO "paper_bands" VALUES(-2220598454308779580,13);
INSERT INTO "paper_bands" VALUES(-2181224155981909576,1);
INSERT INTO "paper_bands" VALUES(-2142554624994535792,11);
INSERT INTO "paper_bands" VALUES(-2134041439391018145,15);
INSERT INTO "paper_bands" VALUES(-2124584965170397594,7);
INSERT INTO "paper_bands" VALUES(-2123029919708974102,5);
INSERT INTO "paper_bands" VALUES(-2099074984500806040,9);
INSERT INTO "paper_bands" VALUES(-2080210494233884170,20);
INSERT INTO "paper_bands" VALUES(-2021110677439303018,23);
INSERT INTO "paper_bands" VALUES(-2001771083437096700,18);
INSERT INTO "paper_bands" VALUES(-1979218637695780725,10);
INSERT INTO "paper_bands" VALUES(-1975960370611103026,20);
INSERT INTO "paper_bands" VALUES(-1969868759282874558,11);
INSERT INTO "paper_bands" VALUES(-1968492430794018919,20);
INSERT INTO "paper_bands" VALUES(-1929984444758928225,6);
INSERT INTO "paper_bands" VALUES(-1907255001981980229,9);
INSERT INTO "paper_bands" VALUES(-1885797982615030328,21);
INSERT INTO "paper_bands" VALUES(-1868600998534424249,6);
INSERT INTO "paper_bands" VALUES(-1850363464765078700,19);
INSERT INTO "paper_bands" VALUES(-1835106270072078053,13);
INSERT INTO "paper_bands" VALUES(-1830112260774949721,6);
INSERT INTO "paper_bands" VALUES(-1798057606436030485,1);
INSERT INTO "paper_bands" VALUES(-1759707844513114107,17);
INSERT INTO "paper_bands" VALUES(-1750517917541343404,15);
INSERT INTO "paper_bands" VALUES(-1732492835037874496,3);
INSERT INTO "paper_bands" VALUES(-1727957219861962029,13);
INSERT INTO "paper_bands" VALUES(-1701001038109086502,2);
INSERT INTO "paper_bands" VALUES(-1672979613149271322,4);
INSERT INTO "paper_bands" VALUES(-1650149929940294999,11);
INSERT INTO "paper_bands" VALUES(-1645509510657218182,6);
INSERT INTO "paper_bands" VALUES(-1602684313261799782,17);
INSERT INTO "paper_bands" VALUES(-1549943844175703535,11);
INSERT INTO "paper_bands" VALUES(-1513180693596879304,6);
INSERT INTO "paper_bands" VALUES(-1500186200198433162,5);
INSERT INTO "paper_bands" VALUES(-1498976417208456919,8);
INSERT INTO "paper_bands" VALUES(-1485204411383767212,22);
INSERT INTO "paper_bands" VALUES(-1476221943093515968,23);
INSERT INTO "paper_bands" VALUES(-1453707315352410932,7);
INSERT INTO "paper_bands" VALUES(-1438755582351164025,3);
INSERT INTO "paper_bands" VALUES(-1370931789152828209,17);
INSERT INTO "paper_bands" VALUES(-1367740790475022664,8);
INSERT INTO "paper_bands" VALUES(-1310548959984968167,10);
INSERT INTO "paper_bands" VALUES(-1305998853536257918,5);
INSERT INTO "paper_bands" VALUES(-1296253967026929772,22);
INSERT INTO "paper_bands" VALUES(-1250550172865733529,15);
INSERT INTO "paper_bands" VALUES(-1206995207194434605,19);
INSERT INTO "paper_bands" VALUES(-1164662255023789070,14);
INSERT INTO "paper_bands" VALUES(-1160233127536708762,5);
INSERT INTO "paper_bands" VALUES(-1146827593268482460,2);
INSERT INTO "paper_bands" VALUES(-1124971836236843508,3);
INSERT INTO "paper_bands" VALUES(-1121471211904682348,10);
INSERT INTO "paper_bands" VALUES(-1103568422110812436,11);
INSERT INTO "paper_bands" VALUES(-1070941385861042455,20);
INSERT INTO "paper_bands" VALUES(-1067925012467758515,11);
INSERT INTO "paper_bands" VALUES(-1059089479243262909,18);
INSERT INTO "paper_bands" VALUES(-1056050962705270499,4);
INSERT INTO "paper_bands" VALUES(-1047220216793893652,19);
INSERT INTO "paper_bands" VALUES(-1013739919674275049,18);
INSERT INTO "paper_bands" VALUES(-1009950085723883796,20);
INSERT INTO "paper_bands" VALUES(-1009739833378629491,3);
INSERT INTO "paper_bands" VALUES(-999218921464201399,20);
INSERT INTO "paper_bands" VALUES(-998230475652731558,14);
INSERT INTO "paper_bands" VALUES(-976204808729862493,16);
INSERT INTO "paper_bands" VALUES(-953034159197189757,10);
INSERT INTO "paper_bands" VALUES(-926814313212037907,17);
INSERT INTO "paper_bands" VALUES(-870576329491556577,12);
INSERT INTO "paper_bands" VALUES(-864690224605706992,11);
INSERT INTO "paper_bands" VALUES(-845314584262474046,1);
INSERT INTO "paper_bands" VALUES(-838000750689802028,6);
INSERT INTO "paper_bands" VALUES(-826593240729098422,7);
INSERT INTO "paper_bands" VALUES(-805150418811319683,1);
INSERT INTO "paper_bands" VALUES(-796732259312639476,15);
INSERT INTO "paper_bands" VALUES(-792253966157489077,17);
INSERT INTO "paper_bands" VALUES(-776914405411140227,21);
INSERT INTO "paper_bands" VALUES(-751180355164069220,15);
INSERT INTO "paper_bands" VALUES(-748379223537876798,17);
INSERT INTO "paper_bands" VALUES(-747639381724368343,12);
INSERT INTO "paper_bands" VALUES(-721914991057222417,19);
INSERT INTO "paper_bands" VALUES(-711572359232930439,10);
INSERT INTO "paper_bands" VALUES(-646584329406486755,6);
INSERT INTO "paper_bands" VALUES(-640808721931656546,5);
INSERT INTO "paper_bands" VALUES(-638054562983558815,16);
INSERT INTO "paper_bands" VALUES(-613702477758438703,23);
INSERT INTO "paper_bands" VALUES(-531999670075154018,21);
INSERT INTO "paper_bands" VALUES(-487762450380197024,21);
INSERT INTO "paper_bands" VALUES(-486427357417013489,18);
INSERT INTO "paper_bands" VALUES(-457597406565090819,2);
INSERT INTO "paper_bands" VALUES(-454685178635100794,5);
INSERT INTO "paper_bands" VALUES(-450995216801697508,15);
INSERT INTO "paper_bands" VALUES(-449766129385061921,2);
INSERT INTO "paper_bands" VALUES(-447999095023947313,1);
INSERT INTO "paper_bands" VALUES(-441707134948414998,7);
INSERT INTO "paper_bands" VALUES(-428348316745204764,7);
INSERT INTO "paper_bands" VALUES(-367590803930701479,20);
INSERT INTO "paper_bands" VALUES(-355145806742230806,9);
INSERT INTO "paper_bands" VALUES(-346989137950482915,15);
INSERT INTO "paper_bands" VALUES(-343707885284181073,6);
INSERT INTO "paper_bands" VALUES(-339049095733363446,6);
INSERT INTO "paper_bands" VALUES(-333266981804683308,23);
INSERT INTO "paper_bands" VALUES(-287553464152845223,18);
INSERT INTO "paper_bands" VALUES(-283321365796853271,8);
INSERT INTO "paper_bands" VALUES(-276424809670471469,22);
INSERT INTO "paper_bands" VALUES(-262795534108156049,8);
INSERT INTO "paper_bands" VALUES(-237333341695150626,8);
INSERT INTO "paper_bands" VALUES(-222336643692151975,1);
INSERT INTO "paper_bands" VALUES(-204558987574198631,12);
INSERT INTO "paper_bands" VALUES(-193335306122575664,21);
INSERT INTO "paper_bands" VALUES(-168536752276582601,21);
INSERT INTO "paper_bands" VALUES(-161967609653245587,17);
INSERT INTO "paper_bands" VALUES(-151562093839106831,18);
INSERT INTO "paper_bands" VALUES(-74426392088046726,20);
INSERT INTO "paper_bands" VALUES(-24046228258219220,19);
INSERT INTO "paper_bands" VALUES(-13090063948609336,13);
INSERT INTO "paper_bands" VALUES(-3230196124402393,16);
INSERT INTO "paper_bands" VALUES(2969987557575501,1);
INSERT INTO "paper_bands" VALUES(9623481731207271,17);
INSERT INTO "paper_bands" VALUES(14323720174702300,8);
INSERT INTO "paper_bands" VALUES(17388296597321162,17);
INSERT INTO "paper_bands" VALUES(32131851536385057,15);
INSERT INTO "paper_bands" VALUES(40634133678857022,9);
INSERT INTO "paper_bands" VALUES(60723958071481739,13);
INSERT INTO "paper_bands" VALUES(100049818080568837,17);
INSERT INTO "paper_bands" VALUES(101435963495279297,2);
INSERT INTO "paper_bands" VALUES(104998210065255101,6);
INSERT INTO "paper_bands" VALUES(114862497841345361,20);
INSERT INTO "paper_bands" VALUES(125745648993925490,23);
INSERT INTO "paper_bands" VALUES(128585725334394184,11);
INSERT INTO "paper_bands" VALUES(156529362966885667,19);
INSERT INTO "paper_bands" VALUES(195201356925095809,10);
INSERT INTO "paper_bands" VALUES(213304469975810975,2);
INSERT INTO "paper_bands" VALUES(230677601432477028,17);
INSERT INTO "paper_bands" VALUES(230968028264185404,15);
INSERT INTO "paper_bands" VALUES(294946132437902927,2);
INSERT INTO "paper_bands" VALUES(314160622534808762,2);
INSERT INTO "paper_bands" VALUES(350303845963674063,18);
INSERT INTO "paper_bands" VALUES(364944908089104776,23);
INSERT INTO "paper_bands" VALUES(390343171901802632,4);
INSERT INTO "paper_bands" VALUES(395060972183385705,9);
INSERT INTO "paper_bands" VALUES(404741975869770911,22);
INSERT INTO "paper_bands" VALUES(417364544560005721,21);
INSERT INTO "paper_bands" VALUES(420763996585267297,12);
INSERT INTO "paper_bands" VALUES(422982979424177596,21);
INSERT INTO "paper_bands" VALUES(424920943874070246,14);
INSERT INTO "paper_bands" VALUES(445371522739011704,3);
INSERT INTO "paper_bands" VALUES(472331144827198426,18);
INSERT INTO "paper_bands" VALUES(506044258823202781,11);
INSERT INTO "paper_bands" VALUES(507843182292504952,8);
INSERT INTO "paper_bands" VALUES(527815997148683277,4);
INSERT INTO "paper_bands" VALUES(601113589099364798,5);
INSERT INTO "paper_bands" VALUES(605737928957492471,5);
INSERT INTO "paper_bands" VALUES(611239410094181359,14);
INSERT INTO "paper_bands" VALUES(615028543063626737,5);
INSERT INTO "paper_bands" VALUES(617855813544677959,11);
INSERT INTO "paper_bands" VALUES(664451045942480012,9);
INSERT INTO "paper_bands" VALUES(700551252591263111,4);
INSERT INTO "paper_bands" VALUES(717143751911429218,2);
INSERT INTO "paper_bands" VALUES(762723392401909445,22);
INSERT INTO "paper_bands" VALUES(766679120696424736,8);
INSERT INTO "paper_bands" VALUES(788642788073440108,18);
INSERT INTO "paper_bands" VALUES(821015503107017845,2);
INSERT INTO "paper_bands" VALUES(850128458496814704,9);
INSERT INTO "paper_bands" VALUES(921081820966038842,23);
INSERT INTO "paper_bands" VALUES(949586774374391486,19);
INSERT INTO "paper_bands" VALUES(957391521715657103,20);
INSERT INTO "paper_bands" VALUES(962840113514738699,14);
INSERT INTO "paper_bands" VALUES(1000196747883270980,4);
INSERT INTO "paper_bands" VALUES(1023415568473779413,5);
INSERT INTO "paper_bands" VALUES(1070407983053293339,9);
INSERT INTO "paper_bands" VALUES(1142132426907730123,10);
INSERT INTO "paper_bands" VALUES(1158765102291949302,22);
INSERT INTO "paper_bands" VALUES(1171858140687076690,2);
INSERT INTO "paper_bands" VALUES(1172964371097539179,18);
INSERT INTO "paper_bands" VALUES(1193100839325570512,21);
INSERT INTO "paper_bands" VALUES(1207227318701593312,14);
INSERT INTO "paper_bands" VALUES(1232660151741260320,7);
INSERT INTO "paper_bands" VALUES(1244259586495165212,22);
INSERT INTO "paper_bands" VALUES(1265524753243321850,15);
INSERT INTO "paper_bands" VALUES(1280031062195544200,13);
INSERT INTO "paper_bands" VALUES(1289514088661623022,15);
INSERT INTO "paper_bands" VALUES(1321337115096445752,12);
INSERT INTO "paper_bands" VALUES(1325256474882964184,4);
INSERT INTO "paper_bands" VALUES(1343627518155972147,15);
INSERT INTO "paper_bands" VALUES(1376395861482031943,7);
INSERT INTO "paper_bands" VALUES(1385400877805647771,21);
INSERT INTO "paper_bands" VALUES(1392296390324073944,6);
INSERT INTO "paper_bands" VALUES(1400777946492173628,20);
INSERT INTO "paper_bands" VALUES(1417211343086981598,9);
INSERT INTO "paper_bands" VALUES(1418461507222812224,15);
INSERT INTO "paper_bands" VALUES(1426132997889615824,3);
INSERT INTO "paper_bands" VALUES(1429057506336464926,8);
INSERT INTO "paper_bands" VALUES(1440816037692631212,8);
INSERT INTO "paper_bands" VALUES(1450879112027629225,6);
INSERT INTO "paper_bands" VALUES(1461900970977377884,5);
INSERT INTO "paper_bands" VALUES(1508587564426003628,10);
INSERT INTO "paper_bands" VALUES(1515341919962443394,1);
INSERT INTO "paper_bands" VALUES(1520989593508441808,5);
INSERT INTO "paper_bands" VALUES(1563041692420577315,16);
INSERT INTO "paper_bands" VALUES(1577810084476180396,11);
INSERT INTO "paper_bands" VALUES(1582122128777039654,22);
INSERT INTO "paper_bands" VALUES(1621177853356351913,13);
INSERT INTO "paper_bands" VALUES(1639530005041164534,1);
INSERT INTO "paper_bands" VALUES(1655997614997996495,23);
INSERT INTO "paper_bands" VALUES(1706626491333342625,3);
INSERT INTO "paper_bands" VALUES(1710609143361872487,14);
INSERT INTO "paper_bands" VALUES(1740337336465179001,3);
INSERT INTO "paper_bands" VALUES(1763613018243661782,13);
INSERT INTO "paper_bands" VALUES(1778155403412448138,19);
INSERT INTO "paper_bands" VALUES(1780354823784485092,14);
INSERT INTO "paper_bands" VALUES(1813910723444857506,23);
INSERT INTO "paper_bands" VALUES(1814607986485681797,17);
INSERT INTO "paper_bands" VALUES(1857670538810297327,9);
INSERT INTO "paper_bands" VALUES(1865946265780988152,3);
INSERT INTO "paper_bands" VALUES(1930180371053313898,9);
INSERT INTO "paper_bands" VALUES(1948265752256102252,8);
INSERT INTO "paper_bands" VALUES(1948461031158272973,3);
INSERT INTO "paper_bands" VALUES(2022329378839750908,12);
INSERT INTO "paper_bands" VALUES(2026984161012080980,16);
INSERT INTO "paper_bands" VALUES(2044116133794381451,14);
INSERT INTO "paper_bands" VALUES(2094485789411120527,9);
INSERT INTO "paper_bands" VALUES(2113188724676903898,7);
INSERT INTO "paper_bands" VALUES(2123825577278779824,10);
INSERT INTO "paper_bands" VALUES(2161770355397971446,3);
INSERT INTO "paper_bands" VALUES(2203491953048350984,23);
INSERT INTO "paper_bands" VALUES(2257825576452187751,20);
INSERT INTO "paper_bands" VALUES(2261117428937963914,3);
INSERT INTO "paper_bands" VALUES(2266251937290822583,18);
INSERT INTO "paper_bands" VALUES(2268358962333723829,4);
INSERT INTO "paper_bands" VALUES(2276769437009810446,3);
INSERT INTO "paper_bands" VALUES(2279474512906913168,16);
INSERT INTO "paper_bands" VALUES(2280593690655093511,21);
INSERT INTO "paper_bands" VALUES(2299293469548278401,22);
INSERT INTO "paper_bands" VALUES(2322837179641491419,19);
INSERT INTO "paper_bands" VALUES(2329098467418256920,9);
INSERT INTO "paper_bands" VALUES(2355983242501079761,1);
INSERT INTO "paper_bands" VALUES(2369118485838994585,12);
INSERT INTO "paper_bands" VALUES(2373020411542314234,12);
INSERT INTO "paper_bands" VALUES(2393385234700588365,14);
INSERT INTO "paper_bands" VALUES(2442850474116308783,22);
INSERT INTO "paper_bands" VALUES(2455835052553849874,11);
INSERT INTO "paper_bands" VALUES(2456123204133957042,4);
INSERT INTO "paper_bands" VALUES(2486521260684964303,20);
INSERT INTO "paper_bands" VALUES(2487861037516038617,14);
INSERT INTO "paper_bands" VALUES(2522484780083159153,10);
INSERT INTO "paper_bands" VALUES(2534324605329545031,13);
INSERT INTO "paper_bands" VALUES(2537075882943487631,7);
INSERT INTO "paper_bands" VALUES(2552692979426076496,10);
INSERT INTO "paper_bands" VALUES(2567924874589941788,20);
INSERT INTO "paper_bands" VALUES(2575980108382239778,12);
INSERT INTO "paper_bands" VALUES(2599649230535676248,16);
INSERT INTO "paper_bands" VALUES(2616501081059581658,1);
INSERT INTO "paper_bands" VALUES(2663292682196653280,7);
INSERT INTO "paper_bands" VALUES(2699219398676347062,15);
INSERT INTO "paper_bands" VALUES(2744363272194082755,8);
INSERT INTO "paper_bands" VALUES(2745871339891437749,23);
INSERT INTO "paper_bands" VALUES(2755001087687819198,16);
INSERT INTO "paper_bands" VALUES(2772071821003174440,12);
INSERT INTO "paper_bands" VALUES(2783309990714133802,16);
INSERT INTO "paper_bands" VALUES(2786557279015465061,13);
INSERT INTO "paper_bands" VALUES(2792758097540818768,5);
INSERT INTO "paper_bands" VALUES(2824445954371546805,6);
INSERT INTO "paper_bands" VALUES(2825101713137377016,22);
INSERT INTO "paper_bands" VALUES(2871759297300386504,4);
INSERT INTO "paper_bands" VALUES(2874791225829900702,10);
INSERT INTO "paper_bands" VALUES(2912566604883264045,20);
INSERT INTO "paper_bands" VALUES(2943254897203264324,10);
INSERT INTO "paper_bands" VALUES(2947812563193030742,12);
INSERT INTO "paper_bands" VALUES(2958951793957971970,5);
INSERT INTO "paper_bands" VALUES(2974817990289959176,13);
INSERT INTO "paper_bands" VALUES(3009264195393240943,23);
INSERT INTO "paper_bands" VALUES(3010870499485470241,7);
INSERT INTO "paper_bands" VALUES(3029222523478527370,1);
INSERT INTO "paper_bands" VALUES(3030135641249822086,12);
INSERT INTO "paper_bands" VALUES(3041278410245426956,8);
INSERT INTO "paper_bands" VALUES(3052692322125766381,22);
INSERT INTO "paper_bands" VALUES(3054819089080403081,8);
INSERT INTO "paper_bands" VALUES(3066697831420266027,18);
INSERT INTO "paper_bands" VALUES(3070246814292251907,19);
INSERT INTO "paper_bands" VALUES(3070865230953100163,16);
INSERT INTO "paper_bands" VALUES(3074068084415219344,6);
INSERT INTO "paper_bands" VALUES(3097111283572023175,22);
INSERT INTO "paper_bands" VALUES(3118238991760371103,23);
INSERT INTO "paper_bands" VALUES(3145793733239948505,2);
INSERT INTO "paper_bands" VALUES(3152693473210419845,1);
INSERT INTO "paper_bands" VALUES(3158434412974850736,9);
INSERT INTO "paper_bands" VALUES(3167371348523179728,22);
INSERT INTO "paper_bands" VALUES(3213706091459295129,19);
INSERT INTO "paper_bands" VALUES(3239056698789701283,10);
INSERT INTO "paper_bands" VALUES(3239549754378722737,16);
INSERT INTO "paper_bands" VALUES(3279187117798547631,2);
INSERT INTO "paper_bands" VALUES(3302937826634920306,8);
INSERT INTO "paper_bands" VALUES(3306199613122070197,4);
INSERT INTO "paper_bands" VALUES(3306788783408920760,11);
INSERT INTO "paper_bands" VALUES(3334000668433011166,12);
INSERT INTO "paper_bands" VALUES(3379884831342383353,17);
INSERT INTO "paper_bands" VALUES(3402468432338369829,15);
INSERT INTO "paper_bands" VALUES(3424410266078310317,4);
INSERT INTO "paper_bands" VALUES(3432357204611480773,12);
INSERT INTO "paper_bands" VALUES(3442104794603283520,12);
INSERT INTO "paper_bands" VALUES(3450467968033567216,8);
INSERT INTO "paper_bands" VALUES(3481983290097262321,6);
INSERT INTO "paper_bands" VALUES(3519831477267742171,7);
INSERT INTO "paper_bands" VALUES(3561970438663084613,2);
INSERT INTO "paper_bands" VALUES(3563796225105720230,13);
INSERT INTO "paper_bands" VALUES(3586305137341808031,3);
INSERT INTO "paper_bands" VALUES(3596589561249169328,9);
INSERT INTO "paper_bands" VALUES(3676019445375172775,14);
INSERT INTO "paper_bands" VALUES(3681955536747671326,23);
INSERT INTO "paper_bands" VALUES(3721725534428362712,16);
INSERT INTO "paper_bands" VALUES(3783839242939388000,4);
INSERT INTO "paper_bands" VALUES(3799928593551186099,19);
INSERT INTO "paper_bands" VALUES(3813935229124700329,16);
INSERT INTO "paper_bands" VALUES(3815208366538256501,17);
INSERT INTO "paper_bands" VALUES(3819719341260673998,14);
INSERT INTO "paper_bands" VALUES(3825608927678185505,7);
INSERT INTO "paper_bands" VALUES(3886392272017274358,4);
INSERT INTO "paper_bands" VALUES(3888612760091601779,11);
INSERT INTO "paper_bands" VALUES(3906045399853438555,19);
INSERT INTO "paper_bands" VALUES(3922413415713153613,1);
INSERT INTO "paper_bands" VALUES(3970143530804217703,12);
INSERT INTO "paper_bands" VALUES(3977003688575508056,21);
INSERT INTO "paper_bands" VALUES(3996785007248248550,14);
INSERT INTO "paper_bands" VALUES(4016491937745577012,21);
INSERT INTO "paper_bands" VALUES(4051883759965277898,1);
INSERT INTO "paper_bands" VALUES(4068193602323586072,9);
INSERT INTO "paper_bands" VALUES(4068215626898336568,23);
INSERT INTO "paper_bands" VALUES(4076927113895167275,18);
INSERT INTO "paper_bands" VALUES(4079433358644543866,21);
INSERT INTO "paper_bands" VALUES(4093949112529599857,3);
INSERT INTO "paper_bands" VALUES(4115041881393530469,4);
INSERT INTO "paper_bands" VALUES(4141808453083728745,5);
INSERT INTO "paper_bands" VALUES(4190804446801387242,17);
INSERT INTO "paper_bands" VALUES(4199397528912199156,11);
INSERT INTO "paper_bands" VALUES(4235745603499579027,5);
INSERT INTO "paper_bands" VALUES(4236253394867838023,21);
INSERT INTO "paper_bands" VALUES(4241075572256200737,16);
INSERT INTO "paper_bands" VALUES(4246593659613921141,12);
INSERT INTO "paper_bands" VALUES(4279752251356451658,19);
INSERT INTO "paper_bands" VALUES(4290642414982231375,1);
INSERT INTO "paper_bands" VALUES(4299724325602292825,2);
INSERT INTO "paper_bands" VALUES(4303172070948681688,17);
INSERT INTO "paper_bands" VALUES(4325271839141454646,14);
INSERT INTO "paper_bands" VALUES(4334108488268406250,3);
INSERT INTO "paper_bands" VALUES(4338182194751471290,4);
INSERT INTO "paper_bands" VALUES(4339746222639455913,13);
INSERT INTO "paper_bands" VALUES(4380959426581554881,3);
INSERT INTO "paper_bands" VALUES(4466286936001308711,6);
INSERT INTO "paper_bands" VALUES(4486162268708386608,18);
INSERT INTO "paper_bands" VALUES(4514804494570783347,18);
INSERT INTO "paper_bands" VALUES(4523194348868951498,16);
INSERT INTO "paper_bands" VALUES(4549286233525735897,7);
INSERT INTO "paper_bands" VALUES(4575784810905727365,14);
INSERT INTO "paper_bands" VALUES(4576189565884986566,10);
INSERT INTO "paper_bands" VALUES(4577285929887866895,10);
INSERT INTO "paper_bands" VALUES(4610553140675153540,15);
CREATE TABLE papers (
	id INTEGER NOT NULL, 
	"key" VARCHAR(300) NOT NULL, 
	arxiv_id VARCHAR(40), 
	title_hash BIGINT NOT NULL, 
	title_key TEXT NOT NULL, 
	title TEXT NOT NULL, 
	abstract TEXT NOT NULL, 
	url TEXT NOT NULL, 
	source TEXT NOT NULL, 
	digest_date DATE, 
	signature BLOB, 
	edition_id INTEGER, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE ("key"), 
	FOREIGN KEY(edition_id) REFERENCES editions (id)
);
INSERT INTO "papers" VALUES(1,'title:ledger teaching small language models to check their own arithmetic',NULL,-1644630486682209653,'ledger teaching small language models to check their own arithmetic','Ledger: Teaching Small Language Models to Check Their Own Arithmetic','Small language models often produce fluent but wrong arithmetic inside longer reasoning chains. We introduce Ledger, a fine-tuning recipe in which the model writes a compact running tally after each step and is rewarded for tallies that a symbolic checker can verify. On four grade-school and competition math benchmarks, a 1.5B-parameter model trained with Ledger closes half of the gap to a model ten times its size. The tallies also make failures easy to locate, since the first unverifiable line usually marks the error.','https://arxiv.org/search/?searchtype=title&query=Ledger%3A+Teaching+Small+Language+Models+to+Check+Their+Own+Arithmetic','sample-digest.txt','2026-11-19',X'87B0F706721CC30215B2F806583FF100533A5900036C0A029BE9F60175450300F14F2B029321350302CA6F0780FFF900B3F3D4074EE6360959E72A05B6DEDC02C00AC10450947E0413319400DBC664045ACD4F018D9C1A0229314800E25B1D00C60E010593287001C7F9580718E11601E1DBAF0A65779407A453700442E15D0187F059027B6D340092510C04D6956700F8F0F5016F3AF30099C9C101BD77B90ED8D5B600A01F2F206826170C5BA46C02935F3706F1580F00F155C402DDFD56002079D10021C6CC0296511603F041E106624F0304C2DE260076C6AC042FFA07086A95950B3CF577050D2491026DA5F507',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(2,'title:instruction drift how long conversations erode system prompts',NULL,1752981781527043471,'instruction drift how long conversations erode system prompts','Instruction Drift: How Long Conversations Erode System Prompts','Chat assistants are expected to follow their system prompt for the whole conversation, yet users report that behaviour changes after many turns. We build a benchmark of 3,000 synthetic dialogues up to 200 turns long and measure how often eleven open and closed models keep to formatting, persona and safety instructions. Adherence falls steadily with length for every model, and the drop is sharpest for formatting rules. A simple reminder inserted every twenty turns recovers most of the loss at negligible cost.','https://arxiv.org/search/?searchtype=title&query=Instruction+Drift%3A+How+Long+Conversations+Erode+System+Prompts','sample-digest.txt','2026-11-19',X'2FEF2E03B3F79304C149C8015723270884FAC0075BBC62005B44E803D11A5202496E3E0237B651001D62A40ADFFAD004B84B5A08C352CF03C44269058E43470785343600840CAB03B46241007A7ECD01541832029744830788E2FD00ED9E2400386E8507E8278402166CBE018F49A6047E2C6D0205A91E02E463330B6257660054A0690271070509A024DB04DA440D02B4F9DD1110107D02DA1C7303058C7A01A9F5BD01549A7B065FE0CE01D9B17C0306A65A06F512FB0262980300ED6F4602C4CFCB11DFF4E8051D80DC01C894CA0364FC770341A9470287FB88013DC7110492378403C66EE00072771405B1D50A06',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(3,'title:codesketch planning repository level edits with natural language outlines',NULL,-3788424161810826868,'codesketch planning repository level edits with natural language outlines','CodeSketch: Planning Repository-Level Edits with Natural-Language Outlines','Code models struggle with changes that span many files. CodeSketch first asks the model to write a short outline of the intended edit in plain language, then grounds each outline item in concrete file and function names before generating patches. On a benchmark of 600 real pull requests, outlines raise the share of patches that pass the project''s tests from 31% to 44%. Developers in a small user study found the outlines useful for reviewing the model''s intent.','https://arxiv.org/search/?searchtype=title&query=CodeSketch%3A+Planning+Repository-Level+Edits+with+Natural-Language+Outlines','sample-digest.txt','2026-11-19',X'4DC3A3034FCABD04D9820002BD2C750B0E2B190FB859D20274B83C00863829012F5B5C0C537C1202D1582700D8025F048AA38603759B6A02597E1A0036F310065242EE02740E4C0125547401056B1C03A6D499008E75F2009106BE09EF77EC06F68C91016E2391006CEE7D030AE2B8001A5563128DDD21041CD55700B6231000AC03B7014FDE180388F8FA022EEF23070E6B3702C0E7C7031B012607AE8F96001FC18B040B831208C6A72500C78D780002A671027CD45B00815C2B04913D8F0290B2AE10CD17D300544FC805C4C11D0825DA8C0458591D000297DB0259497C0CFA0D0C03F62749004575ED01055E050C',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(4,'title:panevlm reading multi panel scientific figures with vision language models',NULL,-2369433515267714041,'panevlm reading multi panel scientific figures with vision language models','PaneVLM: Reading Multi-Panel Scientific Figures with Vision-Language Models','Scientific figures often combine several panels, legends and shared axes, which current vision-language models read poorly. We release PaneQA, 18,000 questions about multi-panel figures from open-access papers, and PaneVLM, a model that first detects panels and then answers with explicit references to them. PaneVLM improves accuracy by 12 points over the strongest open baseline. Errors that remain are dominated by questions that require comparing values across panels.','https://arxiv.org/search/?searchtype=title&query=PaneVLM%3A+Reading+Multi-Panel+Scientific+Figures+with+Vision-Language+Models','sample-digest.txt','2026-11-19',X'99B2EE01B97F1004B6721F00C216BD0572AB8F09408FC30D9CB16500162FFE015463960356F4F205CD8E1400EC7B38019AD260002C04AB05406061015EB2440656F81E02DA73E300B57E8207B6630A03604A8208E399CF03D4648A00410AF800BA4FD4099349C100699D230AE858D60130BF460166E0C901A9336C0422DAC2004D865000A4DC580100026705928C4E0FD86E4300EFC42709393BE10197D7CF110CCA830340041B090DCCED02930BAB00285C8C004D6FE100EECA44077FA96E052079D100F2681C059499F001181ECC035A773801A6C8AD119EB8CA08D9773D029AC4FC05EFBAF70A7C0FC10079635903',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(5,'title:listening while watching audio visual instruction tuning for video assistants',NULL,4309479241593729634,'listening while watching audio visual instruction tuning for video assistants','Listening While Watching: Audio-Visual Instruction Tuning for Video Assistants','Most video assistants ignore the soundtrack even when the answer depends on it. We collect 90,000 instruction examples whose answers require both audio and visual evidence and use them to tune a video-language model with an added audio encoder. The tuned model answers sound-dependent questions far more reliably while keeping its scores on vision-only benchmarks. We also find that a short audio caption is a surprisingly strong substitute for raw audio features.','https://arxiv.org/search/?searchtype=title&query=Listening+While+Watching%3A+Audio-Visual+Instruction+Tuning+for+Video+Assistants','sample-digest.txt','2026-11-19',X'F905F704656D2709CE0D05025089540519ACC401F5E1BE010A24780918C2AF02E2CAA200448705027C026F0CDCC33501D83596088DA3AF0066C55403AEEE7200CB810B0044E7F504C753CB0309F031052093BB05D081EC0F68549A048FD1C301AC349206C7C818006ECC240C6C1D0F0BDEFE5F0465DECA020C6C0300AA6772000F819202CA428E03AC4E8402CE479100D8F9DD036F76AF06995C28091F7D7F06A61DCC017215650AEB9A1006A642DB08808D7F073713A802EA8281042E64E307D0AD0C062A329F011DA0D2000ED11A02B0953B104D3AD601007A92002D03040FD2BFB80AC7F6D8067CD42F04F1C23800',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(6,'title:edge aware token merging for dense prediction transformers',NULL,880257023899138306,'edge aware token merging for dense prediction transformers','Edge-Aware Token Merging for Dense Prediction Transformers','Token merging speeds up vision transformers but blurs object boundaries, which hurts segmentation and depth estimation. We propose to protect tokens near image edges from merging, using a cheap gradient-based edge score computed once per image. Across three segmentation and two depth benchmarks, edge-aware merging keeps accuracy within half a point of the unmerged model while cutting latency by a third. The method needs no retraining and works with existing backbones.','https://arxiv.org/search/?searchtype=title&query=Edge-Aware+Token+Merging+for+Dense+Prediction+Transformers','sample-digest.txt','2026-11-19',X'41A655008F6FB00A9A049601A470D00F435BD400A7AB65081B9D400263155800A131650283D5F315A4FA050CA85118006B0070069A861B0197EC9201B2C75E017EE33A065610B0005C30FC06CF4E92027CB74C005F67B409D14C2A01FDE0480627363305119BB5012526C8034394CD05E0B70903D519E100FD2B59025A0D8609D68C2300EB52410424B34302F6795300FB797401EFC31400596AF603568C440ACCF732022A679A02612CC5035F0C8E0039A89001AA244E068DDDB40BE1951702FC73880482E8B310CE64960114559E0321868E01001A42004907A80360E070015A2D640126E5290CC37E0F0109051F0F',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(7,'title:few shot 3d reconstruction of indoor scenes from sparse phone captures',NULL,3047364430715000413,'few shot 3d reconstruction of indoor scenes from sparse phone captures','Few-Shot 3D Reconstruction of Indoor Scenes from Sparse Phone Captures','Reconstructing a room from a handful of phone photos remains hard because views overlap little and lighting varies. We combine a monocular depth prior with a lightweight Gaussian splatting optimizer that is regularised toward planar walls and floors. With only eight images per room, our approach halves the depth error of previous sparse-view methods on two indoor datasets. Reconstructions take under two minutes on a laptop GPU.','https://arxiv.org/search/?searchtype=title&query=Few-Shot+3D+Reconstruction+of+Indoor+Scenes+from+Sparse+Phone+Captures','sample-digest.txt','2026-11-19',X'537A6501FDEF7E11A90094066A4D8A0605C0F2013C196F02934E1F1E0D5CDF07FD62EC1D35E41F00A10455042FCA3E01AC72B50D3E8B1E02255AB4022A06B907E4202A02EBC3D50191BF8D18066F1D066472F616AD572609AD874003161D0B040E95FC05DC075401EF63E101AE1BAB0178E0420141D03B014D34CC0822E45806E81474004BA26701E3843401F68FA60A8BA69F01DF3A26086AAF8B07FC5F02045532640640E92B00D10D8A05A40CD0005FF3CC01E06ACA0E12DA5A06B9644B033C22D606E29540010BDB6A02B211600034EA660CF309B400E2AFC601356A0E05DA5C9C063A27590EE5301C01B18A6B00',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(8,'title:consistent characters identity preserving video diffusion without fine tuning',NULL,-3011637187009170657,'consistent characters identity preserving video diffusion without fine tuning','Consistent Characters: Identity-Preserving Video Diffusion Without Fine-Tuning','Generating several video clips of the same character usually requires per-subject fine-tuning. We inject identity features from a single reference image into the temporal attention layers of a pretrained video diffusion model through a small adapter trained once on public data. A user study prefers our clips for identity consistency in 71% of comparisons against fine-tuned baselines. Generation time is unchanged, and the adapter transfers to two other video backbones.','https://arxiv.org/search/?searchtype=title&query=Consistent+Characters%3A+Identity-Preserving+Video+Diffusion+Without+Fine-Tuning','sample-digest.txt','2026-11-19',X'215564021D1B6D1072D85B0050D1E503D99C65012A8E70070B73BC00F155B5029FF9B502ADEE9A082E1CD607C234080CEC286408F1017C03982DB603767A83065242EE02B80E960577010205916AB403882C7D025E121508337E6500E6E24501D4924904EB4EB102E8702204EF19E208967A8B06EDCC2B06003C6F00EAAB08013268C103BE74110093DE49048A4FFB058CBE5D02B0991100FBC8980556162C0343CFEF0C300586026B6FD10661817002DCC60107B05DC418EDBC4801C820D8001C3E0D04422374014C933302048D4C03F8EE35096277C802BDA80600AB7E07001A9E5A08905564020436AD048D553205',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(9,'title:sketch to layout controllable diffusion for graphic design',NULL,-1365526646365892595,'sketch to layout controllable diffusion for graphic design','Sketch-to-Layout: Controllable Diffusion for Graphic Design','Designers often start from a rough sketch, but layout generators accept only text or element lists. We train a diffusion model that turns a freehand sketch and a short brief into an editable layout of text boxes, images and shapes. A new metric checks whether generated layouts respect the sketch''s structure rather than only its pixels. Professional designers rated the results as usable starting points in most cases.','https://arxiv.org/search/?searchtype=title&query=Sketch-to-Layout%3A+Controllable+Diffusion+for+Graphic+Design','sample-digest.txt','2026-11-19',X'55ECE40D7CCEB601B6AAA502F70E3301CD4FA30B54AF5C0435A89500C4FDF603CEE19000B9195601F7EE1A065A8D5B01361B6108627FB405500424011EB13F000E69F000FCDA8101BD7B3E063D498F0130E94000AEC42D01B9EFC90BC86CBC006C1D4D02BB896D007A9772010D6D250BE8E76004B1BC8E03F23A05016ABAB2004F82D008C6CCD3021344D3044A30BC048092B2003F871F0319F1D501170767058C9EBD00BFF2C6008F398700F39FF810D58DDC04E755D9005D0E3211A7B2430060F2A104EC8324038B78D2038CDDB400F67DF000471D06026819B50C460F0C013A60D00EC6FBD106D6391A0696DE8B00',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(10,'title:whisper in the crowd target speaker extraction from a single enrollment word',NULL,-374844159974641904,'whisper in the crowd target speaker extraction from a single enrollment word','Whisper in the Crowd: Target Speaker Extraction from a Single Enrollment Word','Target speaker extraction systems typically need several seconds of clean enrollment speech. We show that a single spoken word is enough when the speaker embedding is trained with heavy augmentation and a contrastive objective over short segments. On mixtures of two and three speakers, our system matches the quality of five-second enrollment within 0.6 dB of SI-SDR. This makes extraction practical for voice assistants that hear their user''s wake word anyway.','https://arxiv.org/search/?searchtype=title&query=Whisper+in+the+Crowd%3A+Target+Speaker+Extraction+from+a+Single+Enrollment+Word','sample-digest.txt','2026-11-19',X'0B57F40DD1CADC0AE5BB150A17D4F6049B290900257E22057AE4530086AF050341755602332E9800C2B22D02C25B3B05B51592008AFC72041065310C22F95C04E6D7AC067E161205C480A60656ECD202C0E22206B7FEAB0F4ADEB00E73C59207B53E8709C51E6F08026BD30286AC070A1DDE1005F5431304EA7445041AD25E01194FA416CA31500C62F4310B8AA4F6001E4CA7010FF931023AF525012DD6D6054E088006199CF3007636E10315875502A9A9C3018A23C002B6F01C01C5E98B04647679031136E3002DC5BC03D073B0007EB68F039EF9450856A762010E7F1202D24FA60AC0140809B24357017A280001',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(11,'title:rhythm tokens a beat synchronous representation for symbolic music generation',NULL,-3282538325269321001,'rhythm tokens a beat synchronous representation for symbolic music generation','Rhythm Tokens: A Beat-Synchronous Representation for Symbolic Music Generation','Symbolic music models usually tokenize notes on a fixed time grid, which wastes capacity and obscures rhythm. We propose rhythm tokens that align every event to the beat and encode onsets relative to it. Transformers trained on rhythm tokens produce pieces that listeners judge more rhythmically coherent, and they train about 40% faster because sequences are shorter. The tokenizer is released as a small library.','https://arxiv.org/search/?searchtype=title&query=Rhythm+Tokens%3A+A+Beat-Synchronous+Representation+for+Symbolic+Music+Generation','sample-digest.txt','2026-11-19',X'597EF1052C90C101166193084C710D0371887D044EA5C8013AFE280B2AA6D4031E314504BB2561076C3C87044598BF002CAD9A04A0976E00AB557F00A63F5E009409D2032847B109ED0893024C1D6A080A388D0343BDD30427D99100BDCFD4011B0D1910F33B170B41A30409D71CA402702D5504C5674208B1CBBD0C16C0F602DC931407CA4CF60388DCEB06120C291DCEA03003EFCD54007BB7170485756610F9B6ED02CD41FB2B55D4620810A95C127D9FE5001E446C03F23BA607AB373F05C8A1B304C323DE019C679A061EEA310F01E57D091901A80700BD300477EEFF00A2ABEC05D9BC3901D7383E0915C43F08',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(12,'title:quantize the router last stable low bit inference for mixture of experts models',NULL,1229794326280056270,'quantize the router last stable low bit inference for mixture of experts models','Quantize the Router Last: Stable Low-Bit Inference for Mixture-of-Experts Models','Mixture-of-experts language models are attractive for serving but degrade sharply under aggressive quantization. We trace most of the damage to the router, whose small logit differences decide which experts fire. Keeping only the router in higher precision while quantizing experts to 3 bits recovers nearly all of the full-precision accuracy. Combined with expert-wise calibration, this allows a 47B-parameter model to run on a single 24 GB GPU.','https://arxiv.org/search/?searchtype=title&query=Quantize+the+Router+Last%3A+Stable+Low-Bit+Inference+for+Mixture-of-Experts+Models','sample-digest.txt','2026-11-19',X'47D32006CABFF7015F501501D1848B0371A88A01757C90087B138E0F3202F2082D01C20541E04605C9150F0CBA2FFF0BCB4143038415AD020A177609B6DEDC02473C5505001A0D115ABF840DAFAA10033844A3000D9C2A014792E703B96F1C01E3443B0C68EAC201667053052A541F0988342101B2D11E06C0A79708CE294A095E67DA02E7531B0390446B05FA3FAF04F0F0120B2FE70D007A30220636504D01E143460379AD790626B8FC076EEAFF04935F3706EC62CF08EE36D103E35ADF002079D1000454040183E1A500D2F13100624F0304AF159C01B0823506D09F44112A28B604039D21053183780381C5F009',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(13,'title:specprune structured pruning guided by speculative decoding acceptance',NULL,2563010804153185193,'specprune structured pruning guided by speculative decoding acceptance','SpecPrune: Structured Pruning Guided by Speculative Decoding Acceptance','Speculative decoding needs a small draft model that agrees with the large target model. Instead of training a draft model separately, we prune the target itself, choosing which layers and heads to remove by how much they change the acceptance rate. The resulting drafts are accepted more often than independently trained models of the same size. End-to-end generation becomes 2.1× faster with no change to the output distribution.','https://arxiv.org/search/?searchtype=title&query=SpecPrune%3A+Structured+Pruning+Guided+by+Speculative+Decoding+Acceptance','sample-digest.txt','2026-11-19',X'CD216C016CF81B05158DD209DCA4D405FA9403026AEAB5034B5DD604955C6F00C9BC2D002D4AA4031D3C9C078F027D0C1170600A31B09B054BF644058E73B700CF969D0191DC790C6F129B084211D70A897F2A018ED0CB024ECF1C0BB577B401DB75D20040AF820176579A0511E9B104F6071B0D0EFD270BEAA57F02967AA107E4A90B073AEFF0006096B5160A67F3031484E807AF991E048ABFDE07B67CD704779D9F012A87340BF0B72F095B4C04147298D3112E22240496425103614A380194B6660542095808C58DD202D457D700F61BC403C466D903DF8B4A0142AA7401C26F1206A6C10602122A900B829BF702',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(14,'title:learned video compression at human level rate control',NULL,3920841167292125290,'learned video compression at human level rate control','Learned Video Compression at Human-Level Rate Control','Learned video codecs now rival traditional ones in rate-distortion–yet they rarely hit a requested bitrate precisely. We add a rate controller that predicts, per frame, the quantization level needed to meet a target budget, trained jointly with the codec. On standard test sequences our codec stays within 2% of the target bitrate while keeping its compression gains over hand-tuned encoders. Rate control adds less than one millisecond per frame.','https://arxiv.org/search/?searchtype=title&query=Learned+Video+Compression+at+Human-Level+Rate+Control','sample-digest.txt','2026-11-19',X'EA1EC100CA6F9B03796F4805155E240048767B038AF7E900DAA3380A7FC81C04D7962109F1810B016347B50136DBD6015A376E00B7C0A101DF2D89057AB8FF006179D802B004DD0632FE1002CB531C06260D2E0178292501420B9100451927044075A50E3ACE4F0052DE230014DF910158216B00394C6B0A4F1D44025EE147039225450078269201611E45002A324203410CD200EFD1E705198C05005747A50B17F3B702767A15054938220032D70A0877D4F207C45D8C0A893F3D04E934D607DC6193068E5A2A034D87C80552E79F0205A4AC065F3C8905C5FF400603370D03B24A6A07648B2A0A088CC402313DFF0B',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(15,'title:neural fields for planetary terrain compact elevation maps with multiresolution hashing',NULL,-3286270795027945141,'neural fields for planetary terrain compact elevation maps with multiresolution hashing','Neural Fields for Planetary Terrain: Compact Elevation Maps with Multiresolution Hashing','High-resolution elevation maps of planets and moons take terabytes to store and stream. We fit multiresolution hash-grid neural fields to elevation tiles and store only the network weights. At equal error, the representation is eight times smaller than the best wavelet codec, and any region can be decoded at any resolution on demand. We discuss the trade-offs for onboard use on exploration rovers.','https://arxiv.org/search/?searchtype=title&query=Neural+Fields+for+Planetary+Terrain%3A+Compact+Elevation+Maps+with+Multiresolution+Hashing','sample-digest.txt','2026-11-19',X'E1ECE3065DBEB402655514025EC7C802ACA38D01EC2DF814FCB7EB06E7529902B2E71309DDCCDE08B9F63614A69E1201F970830967B12F09557427047E31B10367F03702B022BA024FD2D5079EE5250DDBA912032FA463012A8B0B02A95BB80552BC9E064638DF040E723008C24C1C03B954090695FA170050F36305469F27025DD5EC05029AE00FC4670A020A750C01918F8B0020F6F805D9EE04019EC5A006BA3F8A039818B421B75EAF072D3E280457CCFD06E1427D040DC1D4064525210660EB930217A61D086CCCDF02489BB605625B67066DE0C90223FAC90578263702D26B340A5D10BD13160CA110E1979D01',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(16,'title:what makes a good negative a study of hard negatives in contrastive pretraining',NULL,-2287238066031625220,'what makes a good negative a study of hard negatives in contrastive pretraining','What Makes a Good Negative? A Study of Hard Negatives in Contrastive Pretraining','Contrastive learning depends on negative examples, yet the effect of their difficulty is poorly understood. We train over 300 image encoders while controlling how hard the negatives are and measure downstream performance on twenty tasks. Moderately hard negatives help consistently, while the very hardest ones often turn out to be false negatives and hurt. We propose a cheap filter that removes likely false negatives and improves linear-probe accuracy on most tasks.','https://arxiv.org/search/?searchtype=title&query=What+Makes+a+Good+Negative%3F+A+Study+of+Hard+Negatives+in+Contrastive+Pretraining','sample-digest.txt','2026-11-19',X'08E89B084E3F710B816F9D05892BE005D79E7D009BF34D035A20020FE12FF703DBBF6B00CF7CD200E21B560B48F50501A5E94001C453E2018FE7530072B86C0DE26FD4041DB3920690A20706FE4A2B02AFDFD5001E8FCD02A3A4AB0495F984009654DF048B5BD106755E17013A18900227286901AEDF9400E641B204C2FDEA02A623740C277684019C02C30B8E2D7F0240F5FE05307D0D063B21720AE7FF4A1EAC1F3B018320790A31BFAE00B7A1CE0937F7F700A88702028627380D95A3710338199C0EFD26AB07C37BB203687EB805EA71DB02FF51480FCE1362001FB70F0A2A27B708CE3C7B007CEDA701411B8E02',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(17,'title:sparse features predict refusals interpreting safety behaviour with dictionary learning',NULL,1043878543092873442,'sparse features predict refusals interpreting safety behaviour with dictionary learning','Sparse Features Predict Refusals: Interpreting Safety Behaviour with Dictionary Learning','Why does a chat model refuse some requests and not others? We train sparse autoencoders on the residual stream of an open chat model and identify a small set of features that fire before refusals. Ablating these features removes most refusals, while amplifying them causes refusals on harmless prompts. The features generalise across languages, which suggests a shared internal representation of risky requests.','https://arxiv.org/search/?searchtype=title&query=Sparse+Features+Predict+Refusals%3A+Interpreting+Safety+Behaviour+with+Dictionary+Learning','sample-digest.txt','2026-11-19',X'0EFB161187CAAF008A602F0A8A4CF30953D694002578D6004CF1960A8721B0086569750BE7D64D06F9D1C90BABC2F6062B6DD602B409B401323ACB01665B81045851770100BCD107D99EC812DC08E200D87E100027A0DB0909FFB90A421417018E02A80015C6FE0B1D4B57037D8B6003A4BAD4006D79380A3EE4B609BE8186031DC251005F999D0446365509E2B615073CAD07027020040E5B9CD30585595A00A2E4BB0103B39E0291B8C20392B9CF0483B653043B9C390911F5A7096CFB4F0514B58F05130494090E64010BF4F91200651FB700815D1E077C8F94041D737800A28E91006AE4CB0327B774076DD5F101',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(18,'title:session aware dense retrieval for e commerce search',NULL,-1483225491079183003,'session aware dense retrieval for e commerce search','Session-Aware Dense Retrieval for E-Commerce Search','Shoppers refine their queries within a session, but most retrievers treat each query alone. We encode the recent session as a short sequence of queries and clicked items and condition a dense retriever on it. Offline, recall at 100 improves by nine points on logs from a large online store, and an online experiment raises purchases per session by 1.8%. The model adds only a few milliseconds of latency.','https://arxiv.org/search/?searchtype=title&query=Session-Aware+Dense+Retrieval+for+E-Commerce+Search','sample-digest.txt','2026-11-19',X'968C8E00416CE500D1BEE505BA308C0035D7F50A8F3B0D03E2A52D016932600159590D06D91C200054E80A0376BCF4033256FE05B16DFC00BED1810286EDE1159717B2086AA95D075BA9DF00B24F3B0214B200004F53A105D363710013C419008E57E00635D7F1020329850ABF789200231334009D81D601A6703E06EE2A5C05110A1600E4CFCD02690370004A4B4F01BEC59E0E00CFF703097EAB0075B940022CD78A031871AD0DAF6762067846B402E55DFF07AD8EA5018D46CA019236CE00ECCEA2018E7C3C018B257D01C844890140D9240035FB350142A89505EE119F01B2274100217957027704E605D91C0800',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(19,'title:cold start recommendation with language model item profiles',NULL,-2785385348845093572,'cold start recommendation with language model item profiles','Cold-Start Recommendation with Language-Model Item Profiles','New items have no interaction history, so collaborative filtering cannot recommend them. We ask a language model to write a structured profile of each item from its description and use the profile embeddings as item features in a standard two-tower recommender. On three public datasets, cold-start recall doubles compared with using raw descriptions. Profiles are generated once per item, so serving cost is unchanged.','https://arxiv.org/search/?searchtype=title&query=Cold-Start+Recommendation+with+Language-Model+Item+Profiles','sample-digest.txt','2026-11-19',X'A3206F02F499D90815339303ECCC680BD93CD804F98EC907B313D7010686821061166D017F340B01A372F105F0897C04F833FB089A493B12B49CA7079607E20D979B9A0B5A493704331CF101000F4B0997E40107D8BCA3093E4AA90793C3410244846F109F2D1805BC51DB07C1F1E30154BEED016E7B5403ACF30F0942ECF50084E878083108F20260509C04CE479100F23F3502A0739B101A5D9703DD77D50122C4EE00FA20C403230E9A00BD418B01CA5B50085706C300298A8B08198CEF0900C3560FBD82B306DC658F0370F6DC05681B1E0E04A099044907A8034E9F880082F55108B122B60CC5758F018D808B01',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(20,'title:curriculum from failures self generated tasks for web agents',NULL,4264818748918418082,'curriculum from failures self generated tasks for web agents','Curriculum from Failures: Self-Generated Tasks for Web Agents','Web agents trained on fixed task sets stop improving once they have mastered them. We let an agent propose new tasks near the edge of its ability, using its own recent failures as seeds, and train it with reinforcement learning on the tasks it can verify. Over ten rounds, success on a held-out suite of real websites rises from 23% to 41%. The generated curriculum covers forms, search and multi-page navigation without human labelling.','https://arxiv.org/search/?searchtype=title&query=Curriculum+from+Failures%3A+Self-Generated+Tasks+for+Web+Agents','sample-digest.txt','2026-11-19',X'3D4B04012F37C2034E9B8C00A4183C000D22B80061B232024291570DF2E61818AC502D029FC698072D32EB017E6DC4019EAF55053727A007201B8105163B03029AF21A02BC59FC0A62BEF201EB945E03203B5E00B8182F018A51C5029117EB011DBAD103B6F5B403667A890B94D8410E4A30930AB2BC301481E05700DA9C0C02529B3C0133BA5200FD543308FAE40A00516AE40060709F066B819E039F4FA802627A1C01DC20D00CB08B8C070B03D30021776605DD5A0C0039070301F753DF0154FF890137BB2F1AE3C1DB005E7059034BC102008F3B01015FA90401BCBB8B00EA707D0D14A50501CB81D201050CB301',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(21,'title:grasping in clutter with tactile pretraining',NULL,3483103216869780792,'grasping in clutter with tactile pretraining','Grasping in Clutter with Tactile Pretraining','Robots grasping objects from cluttered bins rely mainly on vision, which fails under occlusion. We pretrain a tactile encoder on a large set of unlabeled touches and fine-tune a grasping policy that combines touch and vision. In real-robot experiments with 60 household objects, the policy''s grasp success rises from 68% to 83%. Most of the gain comes from objects that are partly hidden.','https://arxiv.org/search/?searchtype=title&query=Grasping+in+Clutter+with+Tactile+Pretraining','sample-digest.txt','2026-11-19',X'7D343702F217240D729D6A0695B0550881A732007FF74A00450C4F06DD8335058EFC9A000989361749D259006C71E702D66162028475080613155D05168E570340AD5F01A8AF9C03F3FBF40FF6D40900B67793022FE55501EF43A2003BE34A27BD687E05C70D79092F2C1E05D0E90E0797A84D00252ADE0A7B05C20312C5200335A91C06B849CE0379DBD503A6158A0328633009A0EEAD009ABA48082FCB1200DFDE8F1C4B670E0AC5059701A8CFBC00812B5B07F9B1160279323E00230C5D06486EFB0155FA721584E4F608C8AD5A0DB8EF6E047A3390050BC6AB06B5A2D5136A161509205BBE00BE50CE00597E5509',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(22,'title:foundation model features for early detection of crop stress from satellite images',NULL,-439710542131987801,'foundation model features for early detection of crop stress from satellite images','Foundation Model Features for Early Detection of Crop Stress from Satellite Images','Crop stress is costly when noticed late, but labelled field data are scarce. We show that features from a pretrained remote-sensing foundation model, combined with a small temporal head, detect water stress up to two weeks before it becomes visible in standard vegetation indices. Trained on three regions and tested on two others, the model keeps most of its accuracy. We release the labelled field dataset.','https://arxiv.org/search/?searchtype=title&query=Foundation+Model+Features+for+Early+Detection+of+Crop+Stress+from+Satellite+Images','sample-digest.txt','2026-11-19',X'0544C1014C4A18050AF74C0832C4AB00387EDF030CA8C4084C2D3803F6B4EC01668D3C0035594F0CF74A340D28B1830C76140406285A1C06EE8028001246E8027EE33A06D27558017286FD10D4B5740978B3E103CAF28207A20CD1098037D700B84A5A0C81FA83015401AB02631D7405E0B70903CD54940969D82D07F248A4039C2BA70B9D1DEB0728F24716DEB13B010217140AA00E240BEAD6EB002ECE1904A53B6B18254F2910B5C04300551F2D034554FC06A2B5EF0071CC3118C70746038C087702CC124B018DAEA1002EA9FF02BFAABE02E0E1AF0BBCCC610D2CCF5603FACCD00440843D001B7EAA067D9FEA06',1,'2026-12-01 11:50:23.132686');
INSERT INTO "papers" VALUES(23,'title:uncertainty aware segmentation of brain lesions across scanners',NULL,2023463333625455599,'uncertainty aware segmentation of brain lesions across scanners','Uncertainty-Aware Segmentation of Brain Lesions Across Scanners','Segmentation models for brain MRI often fail silently on images from unseen scanners. We train an ensemble with scanner-style augmentation and report voxel-wise uncertainty alongside each mask. On data from four hospitals not seen in training, high-uncertainty cases account for most segmentation errors, so flagging them for review catches 80% of failures while sending only 15% of scans to a radiologist. Code and a model card are available.','https://arxiv.org/search/?searchtype=title&query=Uncertainty-Aware+Segmentation+of+Brain+Lesions+Across+Scanners','sample-digest.txt','2026-11-19',X'E3E4EF03F8DAAE064B3E9E008968CB0603AEDE015F811F0595709C04A350E50AD6A3630B4F3C4200C6C07E01C579F801E1816108A0C7B80832943E08EAF8D100F5A67205D6EE2902E39A43024015170087BA8B0262FF770CD69A6103FEC24D0A6C51EC009C089B06AD6BF00129F90609A1158E00A5060107AC89A2022E46280E678C0801F3105F05CCFA26015A1CCF0081F807011F2AB202E9ACE200E6F50800751EDC02E9C78B00AE3FCE015EF0F40132D7530030D51F055D72E50377920B10C0D57F0E2C5AFA09F459F80668E7BC0AEF32780213DDF212047C7C14CBF06B01AA1A0D03E5E52307ECF37800CEDEF806',1,'2026-12-01 11:50:23.132686');
CREATE TABLE run_claims (
	edition_date DATE NOT NULL, 
	owner VARCHAR(300) NOT NULL, 
	claimed_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR(40), 
	PRIMARY KEY (edition_date)
);
CREATE TABLE run_reports (
	id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME NOT NULL, 
	edition_date DATE NOT NULL, 
	"trigger" VARCHAR(40) NOT NULL, 
	status VARCHAR(40) NOT NULL, 
	paper_count INTEGER NOT NULL, 
	report TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "run_reports" VALUES(1,'2026-12-01 11:50:22.584339','2026-12-01 11:50:24.421406','2026-11-20','cli','published',23,'{"edition_date": "2026-11-20", "edition_number": 1, "outputs": ["/tmp/store_scratch/old/gen/site/editions/2026-11-20/edition.json", "/tmp/store_scratch/old/gen/site/editions/2026-11-20/email.html", "/tmp/store_scratch/old/gen/site/editions/2026-11-20/email.txt", "/tmp/store_scratch/old/gen/site/editions/2026-11-20/index.html", "/tmp/store_scratch/old/gen/site/atom.xml", "/tmp/store_scratch/old/gen/site/feed.xml", "/tmp/store_scratch/old/gen/site/topics/agents.xml", "/tmp/store_scratch/old/gen/site/topics/audio.xml", "/tmp/store_scratch/old/gen/site/topics/compression.xml", "/tmp/store_scratch/old/gen/site/topics/efficiency.xml", "/tmp/store_scratch/old/gen/site/topics/generative.xml", "/tmp/store_scratch/old/gen/site/topics/llm.xml", "/tmp/store_scratch/old/gen/site/topics/multimodal.xml", "/tmp/store_scratch/old/gen/site/topics/other.xml", "/tmp/store_scratch/old/gen/site/topics/representation.xml", "/tmp/store_scratch/old/gen/site/topics/retrieval.xml", "/tmp/store_scratch/old/gen/site/topics/science.xml", "/tmp/store_scratch/old/gen/site/topics/vision.xml", "/tmp/store_scratch/old/gen/site/index.html"], "paper_count": 23, "reason": null, "send_deferred": 0, "send_failed": 0, "send_skipped": 0, "send_stopped": null, "sent": 2, "sources": [{"entries": 23, "error": null, "kind": "text", "name": "sample-digest.txt", "new": 23, "note": null, "seen": 0, "source": "", "unchanged": false}], "status": "published", "warnings": []}');
CREATE TABLE schema_migrations (
	version INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_migrations" VALUES(1,'papers, bands and editions','2026-12-01 11:50:01.165352');
INSERT INTO "schema_migrations" VALUES(2,'source state, ingested files, run claims and run reports','2026-12-01 11:50:01.169625');
INSERT INTO "schema_migrations" VALUES(3,'subscribers, consent records and the send ledger','2026-12-01 11:50:01.191082');
CREATE TABLE send_ledger (
	id INTEGER NOT NULL, 
	edition_id INTEGER NOT NULL, 
	subscriber_id INTEGER NOT NULL, 
	message_id VARCHAR(300) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	uncertain INTEGER NOT NULL, 
	owner VARCHAR(300), 
	claimed_at DATETIME, 
	finished_at DATETIME, 
	reply TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_send_ledger_edition_subscriber UNIQUE (edition_id, subscriber_id), 
	FOREIGN KEY(edition_id) REFERENCES editions (id), 
	FOREIGN KEY(subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE
);
INSERT INTO "send_ledger" VALUES(1,1,1,'<2026-11-20-1.1.8cdf530a1cd55783@papers.example.org>','sent',1,0,'vm:3906:bd3ab1fc','2026-12-01 11:50:24.223725','2026-12-01 11:50:24.355950','written to new/c5247001de6838455b583cf829ddbbd9.vm');
INSERT INTO "send_ledger" VALUES(2,1,2,'<2026-11-20-1.2.e631da1521049224@papers.example.org>','sent',1,0,'vm:3906:bd3ab1fc','2026-12-01 11:50:24.355950','2026-12-01 11:50:24.408086','written to new/0d5f29d49a537259502c591b7ee37ddb.vm');
CREATE TABLE source_state (
	name VARCHAR(200) NOT NULL, 
	etag TEXT, 
	last_modified TEXT, 
	content_hash VARCHAR(64), 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE subscribers (
	id INTEGER NOT NULL, 
	public_id VARCHAR(64) NOT NULL, 
	email VARCHAR(320) NOT NULL, 
	email_key VARCHAR(320) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	topics TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	confirmed_at DATETIME, 
	unsubscribed_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (public_id), 
	UNIQUE (email_key)
);
INSERT INTO "subscribers" VALUES(1,'61nIfzTNrtxANEDhBX_P5A','reader@example.org','reader@example.org','confirmed',NULL,'2026-12-01 11:50:01.192286','2026-12-01 11:50:01.192286','2026-12-01 11:50:01.192286',NULL);
INSERT INTO "subscribers" VALUES(2,'FG058Pf7DPK-yVd6Nf-AtQ','llm@example.org','llm@example.org','unsubscribed','llm','2026-12-01 11:50:07.320437','2026-12-01 11:50:30.857391','2026-12-01 11:50:07.320437','2026-12-01 11:50:30.857391');
INSERT INTO "subscribers" VALUES(3,'y_0z4NqrYn7mTAooBstWVQ','pending@example.org','pending@example.org','pending',NULL,'2026-12-01 11:50:14.003608','2026-12-01 11:50:14.003608',NULL,NULL);
CREATE INDEX ix_papers_arxiv_id ON papers (arxiv_id);
CREATE INDEX ix_papers_title_hash ON papers (title_hash);
CREATE INDEX ix_subscribers_status ON subscribers (status);
CREATE INDEX ix_consents_subscriber_id ON consents (subscriber_id);
CREATE INDEX ix_send_ledger_edition_state ON send_ledger (edition_id, state);
COMMIT;
